// Jira: serverInfo -> myself -> the user matches -> mypermissions -> token expiry.
// Shapes and status codes: reference/tracker-apis.md, Jira sections 1-4 and 6.
#include <nlohmann/json.hpp>

#include "firmware/checks/tester.hpp"
#include "firmware/connection_rules.hpp"

namespace tracklight::firmware {
namespace {

using nlohmann::json;
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

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

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

bool server_info(const Connection& c, Probe& p, const std::string& base, bool& cloud, std::vector<int>& version) {
  HttpsResponse r;
  if (!p.get("server", base + "/rest/api/2/serverInfo", r)) return false;
  if (!common_http_outcome(p, "server", r)) return false;
  json j = json_object(r);
  if (r.status == 404 || (r.status == 200 && j.is_null())) {
    p.add("server", "fail", "No Jira REST API at " + c.server_url + " (HTTP " + std::to_string(r.status) + ")",
          "Check the Server URL, including any context path such as /jira.");
    p.report.status = "invalid";
    return false;
  }
  if (r.status == 401 || r.status == 403 || r.status != 200) return true;  // SSO may hide it; myself decides
  cloud = str(j, "deploymentType") == "Cloud";
  if (j.contains("versionNumbers") && j["versionNumbers"].is_array())
    for (const auto& v : j["versionNumbers"])
      if (v.is_number_integer()) version.push_back(v.get<int>());
  p.report.server = {{"deployment", cloud ? "Cloud" : "Server/Data Center"}, {"version", str(j, "version")},
                     {"title", str(j, "serverTitle")}, {"tls", p.report.server.value("tls", json::object())}};
  p.add("server", "pass", std::string("Jira ") + (cloud ? "Cloud" : "Server/Data Center ") + (cloud ? "" : str(j, "version")));
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

bool myself(const Connection& c, Probe& p, const std::string& base, bool cloud, json& user) {
  HttpsResponse r;
  if (!p.get("sign-in", base + "/rest/api/2/myself", r)) return false;
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
  user = json_object(r);
  if (r.status != 200 || user.is_null()) {
    p.add("sign-in", "fail", "Jira answered HTTP " + std::to_string(r.status) + " without the user (a login page instead of JSON?)",
          "Check the Server URL; a single sign-on proxy in front of Jira may need a custom header.");
    p.report.status = "not-authorized";
    return false;
  }
  p.report.user = {{"name", str(user, "displayName")}, {"email", str(user, "emailAddress")},
                   {"account", cloud ? str(user, "accountId") : str(user, "name")}};
  p.add("sign-in", "pass", "Signed in as " + str(user, "displayName"));
  return true;
}

void user_matches(const Connection& c, Probe& p, bool cloud, const json& user) {
  if (c.username.empty()) return;
  const std::string have = cloud ? str(user, "emailAddress") : str(user, "name");
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
  HttpsResponse r;
  if (!p.get("permissions", base + "/rest/api/2/mypermissions?permissions=" + keys, r)) return;
  if (!common_http_outcome(p, "permissions", r)) return;
  json j = json_object(r);
  if (r.status != 200 || j.is_null() || !j.contains("permissions") || !j["permissions"].is_object()) {
    p.add("permissions", "fail", "Jira did not list the account's permissions (HTTP " + std::to_string(r.status) + ")",
          "Check that the account can use the Jira REST API.");
    return;
  }
  std::string missing;
  for (const auto& k : kNeeded) {
    const json& e = j["permissions"].value(k.key, json::object());
    if (!(e.is_object() && e.value("havePermission", false))) missing += (missing.empty() ? "" : ", ") + std::string(k.label);
  }
  if (missing.empty()) p.add("permissions", "pass", "The account has every permission tracklight needs");
  else p.add("permissions", "fail", "Missing permissions: " + missing, "Ask a Jira admin to grant them to this account (or its group) in the projects you use.");
}

// Days from 1970-01-01 to a valid YYYY-MM-DD (proleptic Gregorian).
int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

void token_expiry(const Connection& c, Probe& p) {
  if (c.token_expires.empty()) return;
  const std::string& d = c.token_expires;
  int64_t expires = days_from_civil(std::stoi(d.substr(0, 4)), std::stoi(d.substr(5, 2)), std::stoi(d.substr(8, 2)));
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
  bool cloud = false;
  std::vector<int> version;
  if (!server_info(c, p, base, cloud, version)) return;
  auth_fits_version(c, p, cloud, version);
  if (p.failed()) return;
  json user;
  if (!myself(c, p, base, cloud, user)) return;
  user_matches(c, p, cloud, user);
  permissions(p, base);
  token_expiry(c, p);
}

}  // namespace tracklight::firmware
