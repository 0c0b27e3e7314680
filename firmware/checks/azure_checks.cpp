// Azure DevOps: collection URL -> connectionData (who am I) -> projects (with auto-detect) ->
// builds readable -> TFVC readable. Shapes and codes: reference/tracker-apis.md, sections 7-10.
#include <nlohmann/json.hpp>

#include "firmware/checks/tester.hpp"
#include "firmware/connection_rules.hpp"
#include "firmware/url.hpp"

namespace tracklight::firmware {
namespace {

using nlohmann::json;
using platform::HttpsResponse;

const platform::HeaderList kSuppressRedirect = {{"X-TFS-FedAuthRedirect", "Suppress"}};

std::string server_message(const json& j) {
  return j.is_object() && j.contains("message") && j["message"].is_string() ? j["message"].get<std::string>() : "";
}

// An organisation with public projects answers a bad PAT as the anonymous user instead of 401.
// Markers of that identity (the exact shape is not documented; any one of them is enough).
bool anonymous(const json& user) {
  if (!user.is_object()) return true;
  const std::string id = user.value("id", "");
  const std::string descriptor = user.value("descriptor", "");
  const std::string name = user.value("providerDisplayName", "");
  return id.empty() || id == "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa" || id == "00000000-0000-0000-0000-000000000000" ||
         descriptor.find("UnauthenticatedIdentity") != std::string::npos ||
         descriptor.find("System:PublicAccess") != std::string::npos || iequals(name, "Anonymous");
}

bool sign_in(Probe& p, const std::string& col) {
  HttpsResponse r;
  if (!p.get("sign-in", col + "/_apis/connectionData?api-version=7.1-preview.1", r, kSuppressRedirect)) return false;
  const std::string* loc = r.header("Location");
  const bool sign_in_page = r.status == 203 || (r.status >= 300 && r.status < 400 && loc && lower(*loc).find("signin") != std::string::npos) ||
                            (r.status == 200 && !is_json(r));
  json j = json_object(r);
  std::string msg = server_message(j);
  if (sign_in_page || r.status == 401) {
    bool expired = lower(msg).find("expired") != std::string::npos;
    p.add("sign-in", "fail",
          expired ? "The personal access token has expired"
                  : sign_in_page ? "Azure DevOps answered with a sign-in page: the personal access token is wrong or expired"
                                 : "Azure DevOps refused the personal access token" + (msg.empty() ? "" : " (" + msg + ")"),
          "Create a new personal access token (User settings > Personal access tokens) with Build (Read), Project and Team (Read) and, for TFVC, Code (Read).");
    p.report.status = "not-authorized";
    return false;
  }
  if (r.status == 404) {
    p.add("sign-in", "fail", "No Azure DevOps collection at " + col + " (HTTP 404)",
          "Check the Server URL and the Collection Name (on Azure DevOps Server often DefaultCollection).");
    p.report.status = "invalid";
    return false;
  }
  if (!common_http_outcome(p, "sign-in", r)) return false;
  if (r.status != 200 || j.is_null()) {
    p.add("sign-in", "fail", "Unexpected answer from connectionData (HTTP " + std::to_string(r.status) + ")", "Check the Server URL.");
    p.report.status = "interrupted";
    return false;
  }
  const json user = j.value("authenticatedUser", json());
  if (anonymous(user)) {
    p.add("sign-in", "fail", "Azure DevOps answered as the anonymous user: the personal access token was not accepted",
          "Organisations with public projects do this for a wrong or expired token: create a new one.");
    p.report.status = "not-authorized";
    return false;
  }
  const std::string name = user.value("providerDisplayName", user.value("customDisplayName", std::string("the token's user")));
  p.report.user = {{"name", name}, {"id", user.value("id", "")}};
  p.add("sign-in", "pass", "Signed in as " + name);
  return true;
}

// Returns the project to use ("" when the check failed).
std::string project(const Connection& c, Probe& p, const std::string& col) {
  HttpsResponse r;
  if (!p.get("project", col + "/_apis/projects?api-version=7.1&$top=500", r)) return "";
  if (r.status == 401 || r.status == 403) {
    p.add("project", "fail", "The token may not list projects (HTTP " + std::to_string(r.status) + ")",
          "Give the token the Project and Team (Read) scope.");
    p.report.status = "not-authorized";
    return "";
  }
  if (!common_http_outcome(p, "project", r)) return "";
  json j = json_object(r);
  std::vector<std::string> names;
  if (j.contains("value") && j["value"].is_array())
    for (const auto& v : j["value"])
      if (v.is_object() && v.contains("name") && v["name"].is_string()) names.push_back(v["name"].get<std::string>());
  std::string list;
  for (size_t i = 0; i < names.size() && i < 10; ++i) list += (i ? ", " : "") + names[i];
  if (names.size() > 10) list += ", ...";
  if (!c.project.empty()) {
    for (const auto& n : names)
      if (iequals(n, c.project)) {
        p.add("project", "pass", "Project " + n + " found");
        return n;
      }
    p.add("project", "fail", "Project " + c.project + " was not found" + (list.empty() ? "" : "; the token sees: " + list),
          "Correct the Project Name (or leave it empty to pick the only one).");
    p.report.status = "invalid";
    return "";
  }
  if (names.size() == 1) {
    p.add("project", "pass", "Using the only project the token sees: " + names[0]);
    p.report.detected_project = names[0];
    return names[0];
  }
  p.add("project", "fail", names.empty() ? "The token sees no projects" : "The token sees several projects: " + list,
        names.empty() ? "Check the token's organisation and scopes." : "Enter one of them as the Project Name.");
  p.report.status = "invalid";
  return "";
}

void readable(Probe& p, const std::string& id, const std::string& path, const std::string& what, const std::string& scope) {
  HttpsResponse r;
  if (!p.get(id, path, r)) return;
  if (r.status == 200 && is_json(r)) {
    p.add(id, "pass", what + " are readable");
  } else if (r.status == 401 || r.status == 403 || r.status == 203) {
    p.add(id, "fail", what + " are not readable with this token (HTTP " + std::to_string(r.status) + ")",
          "Give the token the " + scope + " scope.");
    p.report.status = "not-authorized";
  } else if (common_http_outcome(p, id, r)) {
    const std::string why = server_message(json_object(r));
    p.add(id, "fail", what + " could not be read (HTTP " + std::to_string(r.status) + ")" + (why.empty() ? "" : ": " + why),
          id == "tfvc" ? "Check that the project uses TFVC, or untick the TFVC option." : "Check the project's settings.");
    p.report.status = "invalid";
  }
}

}  // namespace

std::string azure_collection_path(const Connection& c, std::string& why) {
  Url u;
  why = parse_url(c.server_url, u);
  if (!why.empty()) return "";
  std::string path = u.path;
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (u.host == "dev.azure.com") return path.substr(0, path.find('/', 1));  // "/{org}": the organisation
  if (u.host.size() > 17 && u.host.compare(u.host.size() - 17, 17, ".visualstudio.com") == 0) return path;
  const std::string collection = c.collection.empty() ? "DefaultCollection" : c.collection;
  const std::string last = path.substr(path.rfind('/') + 1);
  if (iequals(last, collection)) return path;  // already in the URL: not doubled
  return path + "/" + path_segment(collection);
}

void run_azure_checks(const Connection& c, Probe& p, const std::string&) {
  std::string why;
  const std::string col = azure_collection_path(c, why);
  p.add("url", "pass", "Collection URL: https://" + p.host + col);
  if (!sign_in(p, col)) return;
  const std::string proj = project(c, p, col);
  if (proj.empty()) return;
  const std::string base = col + "/" + path_segment(proj) + "/_apis/";
  readable(p, "builds", base + "build/builds?$top=1&api-version=7.1", "Builds", "Build (Read)");
  if (c.use_for_tfvc && !p.failed())
    readable(p, "tfvc", base + "tfvc/changesets?$top=1&api-version=7.1", "TFVC changesets", "Code (Read)");
}

}  // namespace tracklight::firmware
