#include "firmware/signin/jira_oauth2.hpp"

#include "firmware/model/text.hpp"
#include "firmware/model/url.hpp"
#include "firmware/signin/signin.hpp"
#include "firmware/signin/token_answer.hpp"
#include "firmware/tracker/endpoint.hpp"
#include "firmware/tracker/json_read.hpp"
#include "platform/crypto.hpp"

namespace tracklight::firmware {
namespace {

constexpr const char* kCloudScopes = "read:jira-work read:jira-user offline_access";
constexpr const char* kSignInAgain = "Open the connection on the device's page, press Sign in and allow access again.";
constexpr size_t kMaxSites = 50;

bool is_cloud(const Connection& c) { return !c.cloud_id.empty(); }

std::string trimmed(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

std::string dc_oauth_url(const Connection& c, const char* what) { return trimmed(c.server_url) + "/rest/oauth2/latest/" + what; }

std::string auth_url(const SigninContext* ctx) { return trimmed(ctx ? ctx->atlassian_auth_url : kAtlassianAuthUrl); }
std::string api_url(const SigninContext* ctx) { return trimmed(ctx ? ctx->atlassian_api_url : kAtlassianApiUrl); }

platform::HeaderList custom_headers(const Connection& c, const std::string& authorization = "") {
  platform::HeaderList h;
  if (!authorization.empty()) h.emplace_back("Authorization", authorization);
  for (const auto& e : c.headers) h.emplace_back(e.name, e.value);
  return h;
}

// A GET to `url` (a service of `c`: the server, or Atlassian's API) through the connection's
// proxy and CA.
Result<platform::HttpsResponse> get(const Connection& c, platform::HttpsConnector& https, TrackerEnv& env, int64_t deadline_ms,
                                    const std::string& url, const platform::HeaderList& headers) {
  std::string path;
  platform::HttpsTarget t = service_target(c, url, &path);
  t.deadline_ms = deadline_ms;
  t.cancel = env.cancel;
  t.max_response_bytes = 256 * 1024;
  auto conn = https.open(t);
  if (!conn) return conn.error();
  platform::HeaderList sent = {{"Accept", "application/json"}};
  sent.insert(sent.end(), headers.begin(), headers.end());
  return (*conn)->get(path.empty() ? "/" : path, sent);
}

// Who Jira's myself says signed in: the email address on Cloud (when shown), else the name.
std::string account(const Result<platform::HttpsResponse>& r) {
  if (!r || r->status != 200) return "";
  JsonDoc doc(*r);
  const JsonNode me = doc.root();
  for (const char* key : {"emailAddress", "name", "displayName"}) {
    const std::string v = me.string(key);
    if (printable(v, 256)) return v;
  }
  return "";
}

// What a refusal from the token endpoint means to the person: Atlassian's (Cloud) or Jira's own.
TokenFetch token_failure(bool cloud, const TokenAnswer& a, int status, bool exchanging) {
  const std::string who = cloud ? "Atlassian" : "Jira";
  if (!a.unreadable.empty() || status >= 500 || status == 429)
    return TokenFetch::failed("interrupted",
                              who + "'s token endpoint answered HTTP " + std::to_string(status) +
                                  (a.unreadable.empty() ? "" : " (" + a.unreadable + ")"),
                              "The sign-in service had a problem, or something else answered there. This is retried.");
  const std::string detail = a.description.empty() ? a.error : a.error + " - " + a.description;
  if (a.error == "invalid_client" || a.error == "unauthorized_client" || (a.error == "access_denied" && status == 401))
    return TokenFetch::failed("not-authorized", who + " refused the Client ID or Secret (" + detail + ")",
                              cloud
                                  ? "Copy both again from developer.atlassian.com > your app > Settings."
                                  : "Copy both again from Jira's Administration > Applications > Application links > the incoming link.");
  if (a.error == "invalid_grant" && exchanging)
    return TokenFetch::failed("not-authorized", who + " refused the code (" + detail + ")",
                              "Press Sign in again and finish without delay; the Callback URL must be exactly the one registered.");
  if (a.error == "invalid_grant")
    return TokenFetch::failed("not-authorized", "The sign-in has expired or was revoked (" + detail + ")", kSignInAgain);
  return TokenFetch::failed("not-authorized", who + " refused the sign-in: " + detail,
                            "Check the Client ID, the Secret and the Callback URL registered with the app.");
}

// POSTs a token request: JSON to Atlassian (as documented), a form to Data Center (with the
// connection's custom headers: a service-token header may guard the whole server).
TokenReply ask_token(const Connection& c, TrackerEnv& env, int64_t deadline_ms, bool cloud,
                     std::initializer_list<std::pair<const char*, std::string>> fields) {
  if (cloud) {
    nlohmann::json body = nlohmann::json::object();
    for (const auto& f : fields) body[f.first] = f.second;
    return ask_token_service(c, env, deadline_ms, auth_url(env.signin) + "/oauth/token", body.dump(), "application/json",
                             "Atlassian's sign-in service");
  }
  return ask_token_service(c, env, deadline_ms, dc_oauth_url(c, "token"), form_body(fields),
                           "application/x-www-form-urlencoded", "Jira", custom_headers(c));
}

TokenFetch tokens_of(const TokenAnswer& a) {
  TokenFetch f = TokenFetch::token_of(a.access_token, a.expires_in_s);
  f.refresh_token = a.refresh_token;
  return f;
}

// accessible-resources: the sites the person allowed this app (Cloud).
std::vector<AtlassianSite> read_sites(const platform::HttpsResponse& r, std::string& why) {
  std::vector<AtlassianSite> sites;
  JsonDoc doc(r);
  const JsonNode list = doc.root_array();
  if (r.status != 200 || !list.is_array()) {
    why = "Atlassian did not list the sites the sign-in may reach (HTTP " + std::to_string(r.status) + ")";
    return sites;
  }
  for (size_t i = 0; i < list.size() && sites.size() < kMaxSites; ++i) {
    const JsonNode s = list.item(i);
    AtlassianSite site{s.string("id"), clip_utf8(s.string("name"), 100), s.string("url")};
    Url u;
    const bool usable = !site.id.empty() && site.id.size() <= 64 && path_segment(site.id) == site.id &&
                        parse_url(site.url, u).empty() && u.scheme == "https" && printable(site.name, 100);
    if (usable) sites.push_back(std::move(site));
  }
  if (doc.failed()) why = "Atlassian's list of sites is not what was expected: " + doc.first_error();
  else if (sites.empty()) why = "The sign-in allows no Jira site";
  return sites;
}

}  // namespace

JiraKind jira_kind(const Connection& c, TrackerEnv& env, int64_t deadline_ms) {
  JiraKind k;
  auto r = get(c, env.https, env, deadline_ms, trimmed(c.server_url) + "/rest/api/2/serverInfo", custom_headers(c));
  if (!r) {
    k.failure = TokenFetch::failed("interrupted", "Could not reach " + c.server_url + ": " + r.error().detail,
                                   "Check the Server URL and the network route to it; then press Sign in again.");
    return k;
  }
  JsonDoc doc(*r);
  const JsonNode j = doc.root().as_object();
  const std::string type = j.string("deploymentType");
  const JsonNode v = j.array("versionNumbers");
  const int64_t major = v.size() > 0 ? v.item(0).as_int64().value_or(0) : 0, minor = v.size() > 1 ? v.item(1).as_int64().value_or(0) : 0;
  if (r->status != 200 || !j.present() || type.empty()) {
    k.failure = TokenFetch::failed("not-authorized",
                                   "No Jira at " + c.server_url + " (serverInfo answered HTTP " + std::to_string(r->status) + ")",
                                   "Check the Server URL, including any context path such as /jira.");
    return k;
  }
  k.cloud = type == "Cloud";
  if (!k.cloud && (major < 8 || (major == 8 && minor < 22))) {
    k.failure = TokenFetch::failed("not-authorized", "OAuth 2.0 needs Jira Data Center 8.22 or newer; this server runs " +
                                                         j.string("version"),
                                   "Use a personal access token (Jira 8.14+) or OAuth 1.0a on this server.");
    return k;
  }
  k.ok = true;
  return k;
}

std::string pkce_verifier(const std::string& random32) { return platform::base64url_encode(random32); }

std::string jira_authorize_url(const Connection& c, const SigninContext& ctx, bool cloud, const std::string& state,
                               const std::string& verifier) {
  if (cloud)
    return auth_url(&ctx) + "/authorize?audience=api.atlassian.com&client_id=" + path_segment(c.client_id) +
           "&scope=" + path_segment(kCloudScopes) + "&redirect_uri=" + path_segment(c.redirect_uri) + "&state=" + state +
           "&response_type=code&prompt=consent";
  return dc_oauth_url(c, "authorize") + "?client_id=" + path_segment(c.client_id) + "&redirect_uri=" +
         path_segment(c.redirect_uri) + "&response_type=code&scope=READ&state=" + state +
         "&code_challenge=" + platform::base64url_encode(platform::sha256(verifier)) + "&code_challenge_method=S256";
}

std::string landed_code(const std::string& url, const std::string& redirect_uri, const std::string& state, TokenFetch& why,
                        bool& refused) {
  refused = false;
  const std::string place = url.substr(0, url.find_first_of("?#"));
  const auto given_state = query_value(url, "state"), code = query_value(url, "code"), error = query_value(url, "error");
  Url at, registered;
  const bool here = parse_url(place, at).empty() && parse_url(redirect_uri, registered).empty() &&
                    same_origin(place, redirect_uri) && trimmed(at.path) == trimmed(registered.path);
  if (!here) {
    why = TokenFetch::failed("not-authorized", "That is not an address at the Callback URL (" + redirect_uri + ")",
                             "Paste the whole address from the browser's address bar after allowing access.");
  } else if (!given_state || !platform::constant_time_equal(*given_state, state)) {
    why = TokenFetch::failed("not-authorized", "The address belongs to another sign-in (its state does not match)",
                             "Press Sign in again and use the page it opens.");
  } else if (error) {
    refused = true;
    const auto text = query_value(url, "error_description");
    const std::string detail = clip_utf8(*error + (text && !text->empty() ? " - " + *text : ""), 300);
    why = *error == "access_denied"
              ? TokenFetch::failed("not-authorized", "Access was not allowed on the consent page (" + detail + ")",
                                   "Press Sign in again and choose Accept (Allow).")
              : TokenFetch::failed("not-authorized", "The sign-in was refused: " + detail,
                                   "Check the Client ID and that the Callback URL is exactly the one registered with the app.");
  } else if (!code || code->empty() || code->size() > 4096 || has_control(*code)) {
    why = TokenFetch::failed("not-authorized", "The address holds no sign-in code",
                             "Paste the whole address from the browser's address bar after allowing access.");
  } else {
    return *code;
  }
  if (!printable(why.message, 1000)) why.message = "The address is not a sign-in answer";
  return "";
}

CodeGrant jira_exchange_code(const Connection& c, TrackerEnv& env, int64_t deadline_ms, bool cloud, const std::string& code,
                             const std::string& verifier) {
  CodeGrant g;
  TokenReply r = cloud ? ask_token(c, env, deadline_ms, true,
                                   {{"grant_type", "authorization_code"}, {"client_id", c.client_id},
                                    {"client_secret", c.client_secret}, {"code", code}, {"redirect_uri", c.redirect_uri}})
                       : ask_token(c, env, deadline_ms, false,
                                   {{"grant_type", "authorization_code"}, {"client_id", c.client_id},
                                    {"client_secret", c.client_secret}, {"code", code}, {"redirect_uri", c.redirect_uri},
                                    {"code_verifier", verifier}});
  if (!r.reached) return g.outcome = r.failure, g;
  if (!r.answer.ok()) return g.outcome = token_failure(cloud, r.answer, r.response.status, true), g;
  if (r.answer.refresh_token.empty()) {
    g.outcome = TokenFetch::failed("not-authorized", "The sign-in gave no refresh token, so it would end within the hour",
                                   cloud ? "The app must allow offline access: sign in again and accept every permission asked."
                                         : "Check the incoming link's settings in Jira, then sign in again.");
    return g;
  }
  g.outcome = tokens_of(r.answer);
  const std::string bearer = "Bearer " + r.answer.access_token;
  if (!cloud) {
    g.account = account(get(c, env.https, env, deadline_ms, trimmed(c.server_url) + "/rest/api/2/myself",
                            custom_headers(c, bearer)));
    return g;
  }
  auto sites = get(c, env.signin_connector(), env, deadline_ms,
                   api_url(env.signin) + "/oauth/token/accessible-resources",
                   {{"Authorization", bearer}});
  std::string why;
  if (sites) g.sites = read_sites(*sites, why);
  if (!sites || !why.empty()) {
    g.outcome = TokenFetch::failed(sites ? "not-authorized" : "interrupted",
                                   sites ? why : "Could not reach Atlassian's API: " + sites.error().detail,
                                   "Press Sign in again and allow access to the site of the Server URL.");
    return g;
  }
  const AtlassianSite* site = site_for(g.sites, c.server_url);
  g.account = account(get(c, env.signin_connector(), env, deadline_ms,
                          jira_gateway_url(env.signin, (site ? *site : g.sites.front()).id) + "/rest/api/2/myself",
                          {{"Authorization", bearer}}));
  return g;
}

const AtlassianSite* site_for(const std::vector<AtlassianSite>& sites, const std::string& server_url) {
  for (const auto& s : sites)
    if (same_origin(s.url, server_url)) return &s;
  return nullptr;
}

TokenFetch jira_oauth2_refresh(const Connection& c, TrackerEnv& env, int64_t deadline_ms, const std::string& refresh_token,
                               bool* refused) {
  *refused = false;
  TokenReply r = is_cloud(c) ? ask_token(c, env, deadline_ms, true,
                                         {{"grant_type", "refresh_token"}, {"client_id", c.client_id},
                                          {"client_secret", c.client_secret}, {"refresh_token", refresh_token}})
                             : ask_token(c, env, deadline_ms, false,
                                         {{"grant_type", "refresh_token"}, {"client_id", c.client_id},
                                          {"client_secret", c.client_secret}, {"refresh_token", refresh_token},
                                          {"redirect_uri", c.redirect_uri}});
  if (!r.reached) return r.failure;
  if (r.answer.ok()) return tokens_of(r.answer);
  *refused = r.answer.error == "invalid_grant";
  return token_failure(is_cloud(c), r.answer, r.response.status, false);
}

std::string jira_gateway_url(const SigninContext* ctx, const std::string& cloud_id) {
  return api_url(ctx) + "/ex/jira/" + cloud_id;
}

}  // namespace tracklight::firmware
