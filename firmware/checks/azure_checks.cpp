// Azure DevOps: collection URL -> connectionData (who am I) -> projects (with auto-detect) ->
// builds readable -> TFVC readable. Shapes and codes: reference/tracker-apis.md, sections 7-10.
#include "firmware/checks/tester.hpp"
#include "firmware/model/connection_rules.hpp"
#include "firmware/model/text.hpp"
#include "firmware/model/url.hpp"

namespace tracklight::firmware {
namespace {

using platform::HttpsResponse;

constexpr int kProjectPageSize = 100;
constexpr int kMaxProjectPages = 10;  // bounds the requests of one check, whatever the server says

// The message of an error answer, when it has one. Decoration only: the status decides.
std::string server_message(const HttpsResponse& r) {
  JsonDoc doc(r);
  return doc.root().string("message");
}

// An organisation with public projects answers a bad PAT as the anonymous user instead of 401.
// Markers of that identity (the exact shape is not documented; any one of them is enough).
bool anonymous(const std::string& id, const std::string& descriptor, const std::string& name) {
  return id.empty() || id == "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa" || id == "00000000-0000-0000-0000-000000000000" ||
         descriptor.find("UnauthenticatedIdentity") != std::string::npos ||
         descriptor.find("System:PublicAccess") != std::string::npos || iequals(name, "Anonymous");
}

void bad_pat(Probe& p, const std::string& message) {
  p.add("sign-in", "fail", message,
        "Create a new personal access token (User settings > Personal access tokens) with Build (Read), Project and Team (Read) and, for TFVC, Code (Read).");
  p.report.status = "not-authorized";
}

// Azure DevOps refused a token Microsoft Entra ID issued (reference/tracker-apis.md, "Entra ID
// tokens"): the identity is valid but the organisation does not know it, or it must sign in
// once; anything else is a token the organisation does not accept.
void entra_refused(const Connection& c, Probe& p, const std::string& msg) {
  const bool sp = c.auth == "service-principal" || c.auth == "managed-identity";
  std::string message, hint;
  if (msg.find("TF400813") != std::string::npos) {
    message = "Azure DevOps does not know this identity: it was not added to the organisation (TF400813)";
    hint = sp ? "Add it under Organization settings > Users > Add users, searching for the app's (or the managed identity's) name, with Basic access; then give it access to the project."
              : "Add the account under Organization settings > Users, and check that the organisation allows third-party application access via OAuth.";
  } else if (msg.find("TF401444") != std::string::npos) {
    message = "Azure DevOps wants this identity to sign in once in a web browser first (TF401444)";
    hint = sp ? "Add the service principal to the organisation under Organization settings > Users (Azure DevOps enables it then), and check that the organisation is connected to the same Entra tenant."
              : "Open the organisation once in a browser with this account, then test again.";
  } else {
    message = "Azure DevOps refused the token from Microsoft Entra ID" + (msg.empty() ? "" : " (" + msg + ")");
    hint = "The organisation must be connected to the same Entra tenant (Organization settings > Microsoft Entra), and the identity added under Organization settings > Users.";
  }
  p.add("sign-in", "fail", message, hint);
  p.report.status = "not-authorized";
}

bool sign_in(const Connection& c, Probe& p, const std::string& col) {
  const std::string path = col + "/_apis/connectionData?api-version=7.1-preview.1";
  HttpsResponse r;
  if (!p.get("sign-in", path, r)) return false;
  const std::string* loc = r.header("Location");
  const bool sign_in_page = r.status == 203 || (r.status >= 300 && r.status < 400 && loc && lower(*loc).find("signin") != std::string::npos) ||
                            (r.status == 200 && !is_json(r));
  if ((sign_in_page || r.status == 401) && c.auth != "pat") {
    p.refused = true;
    entra_refused(c, p, clip_utf8(server_message(r), 300));
    return false;
  }
  if (sign_in_page || r.status == 401) {
    const std::string msg = server_message(r);
    bad_pat(p, lower(msg).find("expired") != std::string::npos
                   ? "The personal access token has expired"
                   : sign_in_page ? "Azure DevOps answered with a sign-in page: the personal access token is wrong or expired"
                                  : "Azure DevOps refused the personal access token" + (msg.empty() ? "" : " (" + msg + ")"));
    return false;
  }
  if (r.status == 404) {
    p.add("sign-in", "fail", "No Azure DevOps collection at " + col + " (HTTP 404)",
          "Check the Server URL and the Collection Name (on Azure DevOps Server often DefaultCollection).");
    p.report.status = "invalid";
    return false;
  }
  if (!common_http_outcome(p, "sign-in", r)) return false;
  JsonDoc doc(r);
  const JsonNode j = r.status == 200 ? doc.root() : JsonNode();
  if (!j.present()) {
    p.unexpected("sign-in", path, doc, r.status);
    return false;
  }
  const JsonNode user = j.object("authenticatedUser");
  const std::string id = user.string("id"), descriptor = user.string("descriptor");
  const std::string provider_name = user.string("providerDisplayName"), custom_name = user.string("customDisplayName");
  if (!p.decoded("sign-in", path, doc)) return false;
  if (anonymous(id, descriptor, provider_name)) {
    if (c.auth != "pat") {  // an Entra identity the organisation does not know, with public projects
      p.refused = true;
      entra_refused(c, p, "it answered as the anonymous user");
      return false;
    }
    p.add("sign-in", "fail", "Azure DevOps answered as the anonymous user: the personal access token was not accepted",
          "Organisations with public projects do this for a wrong or expired token: create a new one.");
    p.report.status = "not-authorized";
    return false;
  }
  const std::string name = !provider_name.empty() ? provider_name : !custom_name.empty() ? custom_name : "the token's user";
  p.report.user = {{"name", name}, {"id", id}};
  p.add("sign-in", "pass", "Signed in as " + name);
  return true;
}

// What to give an identity that may not read something: a PAT has scopes; an Entra identity
// (service principal, managed identity) has an access level and project membership instead.
std::string grant_hint(const Connection& c, const std::string& scope) {
  if (c.auth == "pat") return "Give the token the " + scope + " scope.";
  return "Give the identity Basic access (Organization settings > Users) and add it to the project's Readers or Contributors group.";
}

bool projects_refused(const Connection& c, Probe& p, const HttpsResponse& r) {
  if (r.status != 401 && r.status != 403 && r.status != 203) return false;
  p.add("project", "fail", "The token may not read projects (HTTP " + std::to_string(r.status) + ")",
        grant_hint(c, "Project and Team (Read)"));
  p.report.status = "not-authorized";
  return true;
}

// Project names the token sees, a page at a time (the x-ms-continuationtoken response header
// names the next page), until `enough` are known or the list ends. False when a failure was
// reported.
bool project_names(const Connection& c, Probe& p, const std::string& col, size_t enough, std::vector<std::string>& names) {
  std::string next;
  for (int page = 0; page < kMaxProjectPages && names.size() < enough; ++page) {
    const std::string path = col + "/_apis/projects?api-version=7.1&$top=" + std::to_string(kProjectPageSize) +
                             (next.empty() ? "" : "&continuationToken=" + path_segment(next));
    HttpsResponse r;
    if (!p.get("project", path, r)) return false;
    if (projects_refused(c, p, r) || !common_http_outcome(p, "project", r)) return false;
    JsonDoc doc(r);
    const JsonNode list = r.status == 200 ? doc.root().array("value") : JsonNode();
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string name = list.item(i).string("name");
      if (!name.empty()) names.push_back(name);
    }
    if (!p.decoded("project", path, doc)) return false;
    if (!list.present()) {
      p.unexpected("project", path, doc, r.status, "value");
      return false;
    }
    const std::string* token = r.header("x-ms-continuationtoken");
    if (!token || token->empty() || list.size() == 0) return true;
    next = *token;
  }
  return true;
}

std::string some_of(const std::vector<std::string>& names) {
  std::string list;
  for (size_t i = 0; i < names.size() && i < 10; ++i) list += (i ? ", " : "") + names[i];
  if (names.size() > 10) list += ", ...";
  return list;
}

// A named project: one direct lookup (404: no such project, or the token cannot see it).
std::string named_project(const Connection& c, Probe& p, const std::string& col) {
  const std::string path = col + "/_apis/projects/" + path_segment(c.project) + "?api-version=7.1";
  HttpsResponse r;
  if (!p.get("project", path, r)) return "";
  if (projects_refused(c, p, r)) return "";
  if (r.status == 404) {
    std::vector<std::string> seen;
    if (!project_names(c, p, col, 11, seen)) return "";
    p.add("project", "fail", "Project " + c.project + " was not found" + (seen.empty() ? "" : "; the token sees: " + some_of(seen)),
          "Correct the Project Name (or leave it empty to pick the only one).");
    p.report.status = "invalid";
    return "";
  }
  if (!common_http_outcome(p, "project", r)) return "";
  JsonDoc doc(r);
  const std::string name = r.status == 200 ? doc.root().string("name") : "";
  if (!p.decoded("project", path, doc)) return "";
  if (name.empty()) {
    p.unexpected("project", path, doc, r.status, "name");
    return "";
  }
  p.add("project", "pass", "Project " + name + " found");
  return name;
}

// Returns the project to use ("" when the check failed).
std::string project(const Connection& c, Probe& p, const std::string& col) {
  if (!c.project.empty()) return named_project(c, p, col);
  std::vector<std::string> names;
  if (!project_names(c, p, col, 11, names)) return "";  // enough to list ten in the message
  if (names.size() == 1) {
    p.add("project", "pass", "Using the only project the token sees: " + names[0]);
    p.report.detected_project = names[0];
    return names[0];
  }
  p.add("project", "fail", names.empty() ? "The token sees no projects" : "The token sees several projects: " + some_of(names),
        names.empty() ? "Check the token's organisation and scopes." : "Enter one of them as the Project Name.");
  p.report.status = "invalid";
  return "";
}

void readable(const Connection& c, Probe& p, const std::string& id, const std::string& path, const std::string& what, const std::string& scope) {
  HttpsResponse r;
  if (!p.get(id, path, r)) return;
  if (r.status == 200 && is_json(r)) {
    JsonDoc doc(r);
    const JsonNode list = doc.root().array("value");
    if (!p.decoded(id, path, doc)) return;
    if (list.present()) p.add(id, "pass", what + " are readable");
    else p.unexpected(id, path, doc, r.status, "value");
  } else if (r.status == 401 || r.status == 403 || r.status == 203) {
    p.add(id, "fail", what + " are not readable with this token (HTTP " + std::to_string(r.status) + ")",
          grant_hint(c, scope));
    p.report.status = "not-authorized";
  } else if (common_http_outcome(p, id, r)) {
    const std::string why = server_message(r);
    p.add(id, "fail", what + " could not be read (HTTP " + std::to_string(r.status) + ")" + (why.empty() ? "" : ": " + why),
          id == "tfvc" ? "Check that the project uses TFVC, or untick the TFVC option." : "Check the project's settings.");
    p.report.status = "invalid";
  }
}

}  // namespace

void run_azure_checks(const Connection& c, Probe& p, const std::string&) {
  std::string why;
  const std::string col = azure_collection_path(c, why);
  p.add("url", "pass", "Collection URL: https://" + p.host + col);
  if (!sign_in(c, p, col)) return;
  const std::string proj = project(c, p, col);
  if (proj.empty()) return;
  const std::string base = col + "/" + path_segment(proj) + "/_apis/";
  readable(c, p, "builds", base + "build/builds?$top=1&api-version=7.1", "Builds", "Build (Read)");
  if (c.use_for_tfvc && !p.failed())
    readable(c, p, "tfvc", base + "tfvc/changesets?$top=1&api-version=7.1", "TFVC changesets", "Code (Read)");
}

}  // namespace tracklight::firmware
