// Jira: serverInfo -> myself -> the user matches -> mypermissions -> token expiry.
// Shapes and status codes: reference/tracker-apis.md, Jira sections 1-4 and 6.
#include <optional>

#include "firmware/checks/tester.hpp"
#include "firmware/model/connection_rules.hpp"
#include "firmware/model/text.hpp"

namespace tracklight::firmware {
namespace {

using platform::HttpsResponse;

struct Permission {
  const char* key;
  const char* label;
};
const Permission kNeeded[] = {
    {"BROWSE_PROJECTS", "Browse projects"},     {"CREATE_ISSUES", "Create issues"},
    {"EDIT_ISSUES", "Edit issues"},             {"TRANSITION_ISSUES", "Transition issues"},
    {"CREATE_ATTACHMENTS", "Create attachments"}, {"ADD_COMMENTS", "Add comments"},
    {"DELETE_ALL_COMMENTS", "Delete all comments"}, {"USER_PICKER", "Browse users and groups"},
};

// X-Seraph-LoginReason carries a refusal even on a 2xx from older Server releases.
bool seraph_refused(const HttpsResponse& r) {
  const std::string* why = r.header("X-Seraph-LoginReason");
  return why && (*why == "AUTHENTICATED_FAILED" || *why == "AUTHENTICATION_DENIED" || *why == "AUTHORISATION_FAILED");
}

std::string bad_credentials_hint(const Connection& c, bool cloud) {
  if (c.auth == "api-key")
    return "Check the email address and the API token (create a new one at id.atlassian.com > Security > API tokens).";
  if (c.auth == "pat")
    return "The token is wrong, revoked or expired: create a new one in Jira under Profile > Personal Access Tokens.";
  return cloud ? "Jira Cloud no longer accepts passwords: choose API key and use an API token."
               : "Check the user name and password.";
}

// `known` says whether serverInfo told the deployment (it may be refused before sign-in).
bool server_info(const Connection& c, Probe& p, const std::string& base, bool& known, bool& cloud,
                 std::vector<int>& version) {
  const std::string path = base + "/rest/api/2/serverInfo";
  HttpsResponse r;
  if (!p.get("server", path, r)) return false;
  if (!common_http_outcome(p, "server", r)) return false;
  JsonDoc doc(r);
  if (r.status == 404 || (r.status == 200 && !doc.parsed())) {
    p.add("server", "fail", "No Jira REST API at " + c.server_url + " (HTTP " + std::to_string(r.status) + ")",
          "Check the Server URL, including any context path such as /jira.");
    p.report.status = "invalid";
    return false;
  }
  if (r.status != 200) return true;  // 401/403: SSO may hide it; myself decides
  const JsonNode j = doc.root();
  if (!j.present()) {
    p.unexpected("server", path, doc, r.status);
    return false;
  }
  cloud = j.string("deploymentType") == "Cloud";
  const JsonNode numbers = j.array("versionNumbers");
  for (size_t i = 0; i < numbers.size(); ++i) {
    const std::optional<int64_t> v = numbers.item(i).as_int64();
    if (v && *v >= 0 && *v <= 1000000) version.push_back(static_cast<int>(*v));
  }
  const std::string number = j.string("version"), title = j.string("serverTitle");
  if (!p.decoded("server", path, doc)) return false;
  known = true;
  p.report.server["deployment"] = cloud ? "Cloud" : "Server/Data Center";
  p.report.server["version"] = number;
  p.report.server["title"] = title;
  p.add("server", "pass", std::string("Jira ") + (cloud ? "Cloud" : "Server/Data Center ") + (cloud ? "" : number));
  return true;
}

void auth_fits_version(const Connection& c, Probe& p, bool cloud, const std::vector<int>& v) {
  auto older_than = [&](int major, int minor) {
    return !v.empty() && (v[0] < major || (v[0] == major && v.size() > 1 && v[1] < minor));
  };
  if (cloud && c.auth == "pat")
    p.add("auth-method", "warn", "Personal access tokens are a Data Center feature", "On Jira Cloud choose API key.");
  else if (cloud && c.auth == "password")
    p.add("auth-method", "warn", "Jira Cloud does not accept account passwords", "Choose API key and use an API token.");
  else if (!cloud && c.auth == "api-key")
    p.add("auth-method", "warn", "API tokens are for Jira Cloud", "On Server/Data Center use a password or a personal access token.");
  else if (!cloud && c.auth == "pat" && older_than(8, 14))
    p.add("auth-method", "fail", "Personal access tokens need Jira 8.14 or newer", "Use Password authentication on this server.");
}

// The signed-in account, as far as Jira shows it (a privacy setting may hide the email).
struct JiraUser {
  std::string display, email, account, name;
};

bool myself(const Connection& c, Probe& p, const std::string& base, bool cloud, JiraUser& user) {
  const std::string path = base + "/rest/api/2/myself";
  HttpsResponse r;
  if (!p.get("sign-in", path, r)) return false;
  const std::string* denied = r.header("X-Authentication-Denied-Reason");
  if (denied && denied->find("CAPTCHA") != std::string::npos) {
    std::string login = denied->find("login-url=") != std::string::npos ? denied->substr(denied->find("login-url=") + 10) : c.server_url;
    p.add("sign-in", "fail", "Jira locked the account behind a CAPTCHA after failed logins",
          "Log in once in a browser at " + login + " (solving the CAPTCHA), then Test again.");
    p.report.status = "not-authorized";
    return false;
  }
  if (r.status == 401 || seraph_refused(r)) {
    p.add("sign-in", "fail", "Jira refused the credentials (HTTP " + std::to_string(r.status) + ")", bad_credentials_hint(c, cloud));
    p.report.status = "not-authorized";
    return false;
  }
  if (r.status == 403) {
    p.add("sign-in", "fail", "The account may not use Jira (HTTP 403)", "Ask a Jira admin to give the user application access.");
    p.report.status = "not-authorized";
    return false;
  }
  if (!common_http_outcome(p, "sign-in", r)) return false;
  JsonDoc doc(r);
  if (r.status != 200 || !doc.parsed()) {
    p.add("sign-in", "fail", "Jira answered HTTP " + std::to_string(r.status) + " without the user (a login page instead of JSON?)",
          "Check the Server URL; a single sign-on proxy in front of Jira may need a custom header.");
    p.report.status = "not-authorized";
    return false;
  }
  const JsonNode j = doc.root();
  if (!j.present()) {
    p.unexpected("sign-in", path, doc, r.status);
    return false;
  }
  user = {j.string("displayName"), j.string("emailAddress"), j.string("accountId"), j.string("name")};
  if (!p.decoded("sign-in", path, doc)) return false;
  p.report.user = {{"name", user.display}, {"email", user.email}, {"account", user.account.empty() ? user.name : user.account}};
  p.add("sign-in", "pass", "Signed in as " + user.display);
  return true;
}

void user_matches(const Connection& c, Probe& p, bool cloud, const JiraUser& user) {
  if (c.username.empty()) return;
  const std::string& have = cloud ? user.email : user.name;
  if (have.empty()) {
    p.add("user", "warn", "Jira does not show this account's " + std::string(cloud ? "email address" : "user name"),
          "The account's profile visibility hides it; the sign-in itself worked.");
  } else if (!iequals(have, c.username)) {
    p.add("user", "fail", "The credentials belong to " + have + ", not " + c.username,
          "Correct the Username, or use credentials of that user.");
  } else {
    p.add("user", "pass", "The account is " + have);
  }
}

void permissions(Probe& p, const std::string& base) {
  std::string keys;
  for (const auto& k : kNeeded) keys += (keys.empty() ? "" : ",") + std::string(k.key);
  const std::string path = base + "/rest/api/2/mypermissions?permissions=" + keys;
  HttpsResponse r;
  if (!p.get("permissions", path, r)) return;
  if (!common_http_outcome(p, "permissions", r)) return;
  JsonDoc doc(r);
  const JsonNode granted = r.status == 200 ? doc.root().object("permissions") : JsonNode();
  if (!p.decoded("permissions", path, doc)) return;
  if (!granted.present()) {
    p.add("permissions", "fail", "Jira did not list the account's permissions (HTTP " + std::to_string(r.status) + ")",
          "Check that the account can use the Jira REST API.");
    return;
  }
  std::string missing;
  for (const auto& k : kNeeded)
    if (!granted.object(k.key).boolean("havePermission").value_or(false))
      missing += (missing.empty() ? "" : ", ") + std::string(k.label);
  if (!p.decoded("permissions", path, doc)) return;
  if (missing.empty()) p.add("permissions", "pass", "The account has every permission tracklight needs");
  else p.add("permissions", "fail", "Missing permissions: " + missing, "Ask a Jira admin to grant them to this account (or its group) in the projects you use.");
}

void token_expiry(const Connection& c, Probe& p) {
  if (c.token_expires.empty()) return;
  const std::string& d = c.token_expires;
  int64_t expires = date_days(d);
  int64_t today = p.clock.wall_time_s() / 86400;
  if (today > expires) {
    p.add("token-expiry", "fail", "The token expired on " + d, "Create a new token and enter it, with its new expiry date.");
    p.report.status = "not-authorized";
  } else if (expires - today <= 14) {
    p.add("token-expiry", "warn", "The token expires on " + d + ", in " + std::to_string(expires - today) + " day(s)",
          "Create a new token before then.");
  } else {
    p.add("token-expiry", "pass", "The token is valid until " + d);
  }
}

}  // namespace

void run_jira_checks(const Connection& c, Probe& p, const std::string& base) {
  bool known = false, cloud = false;
  std::vector<int> version;
  if (!server_info(c, p, base, known, cloud, version)) return;
  if (known) auth_fits_version(c, p, cloud, version);  // a refused serverInfo tells no deployment
  if (p.failed()) return;
  JiraUser user;
  if (!myself(c, p, base, cloud, user)) return;
  if (!known) cloud = !user.account.empty();  // only Cloud accounts have an accountId
  user_matches(c, p, cloud, user);
  permissions(p, base);
  token_expiry(c, p);
}

}  // namespace tracklight::firmware
