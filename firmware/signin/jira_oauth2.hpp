// Jira's OAuth 2.0 sign-ins (SPEC section 1, "Sign-in flows"; reference/tracker-apis.md "Cloud
// 3LO flow", "DC OAuth 2.0 provider"): the person's own app, an authorization code obtained in
// the browser and exchanged by the agent, and a rotating refresh token kept sealed from then on.
//   - Jira Cloud (3LO): auth.atlassian.com issues the tokens (JSON bodies, no PKCE, the client
//     secret required); every API call goes through api.atlassian.com/ex/jira/{cloudId}.
//   - Jira Data Center 8.22+ (incoming link): {server}/rest/oauth2/latest/authorize and /token,
//     PKCE S256, form bodies, redirect_uri repeated on refresh, custom headers on every request.
#pragma once
#include <cstdint>
#include <string>
#include <vector>
#include "firmware/model/connection.hpp"
#include "firmware/signin/access_tokens.hpp"

namespace tracklight::firmware {

struct TrackerEnv;
struct SigninContext;

constexpr const char* kAtlassianAuthUrl = "https://auth.atlassian.com";
constexpr const char* kAtlassianApiUrl = "https://api.atlassian.com";

// What serverInfo (asked without credentials) says about the server: Cloud or Data Center, and
// whether OAuth 2.0 can work there; or, when !ok, why not.
struct JiraKind {
  bool ok = false;
  bool cloud = false;
  TokenFetch failure;
};
JiraKind jira_kind(const Connection& c, TrackerEnv& env, int64_t deadline_ms);

// A PKCE code verifier (RFC 7636 section 4.1: 43 characters) from 32 random bytes.
std::string pkce_verifier(const std::string& random32);

// Where the person allows access: Atlassian's consent page (Cloud) or the server's own (Data
// Center, with the PKCE challenge of `verifier`). `state` comes back with the code.
std::string jira_authorize_url(const Connection& c, const SigninContext& ctx, bool cloud, const std::string& state,
                               const std::string& verifier);

// The code in the address the browser landed on (the callback, or the address pasted back):
// "" with `why` set when it holds none, is not at the Callback URL, belongs to another sign-in,
// or says access was refused (`refused` then: the sign-in has ended).
std::string landed_code(const std::string& url, const std::string& redirect_uri, const std::string& state, TokenFetch& why,
                        bool& refused);

// A Jira Cloud site the sign-in may reach.
struct AtlassianSite {
  std::string id, name, url;
};

// The code exchanged for the first tokens; on Cloud, with the sites the person allowed.
struct CodeGrant {
  TokenFetch outcome;  // the access and refresh tokens, or why not
  std::vector<AtlassianSite> sites;
  std::string account;  // who signed in, as Jira's myself names them ("" when it would not say)
};
CodeGrant jira_exchange_code(const Connection& c, TrackerEnv& env, int64_t deadline_ms, bool cloud, const std::string& code,
                             const std::string& verifier);

// The site of `sites` that Server URL names, or nullptr.
const AtlassianSite* site_for(const std::vector<AtlassianSite>& sites, const std::string& server_url);

// A new access token from `refresh_token`; the outcome carries the rotated refresh token (empty
// when the answer kept the old one valid). `refused`: the refresh token itself was refused.
TokenFetch jira_oauth2_refresh(const Connection& c, TrackerEnv& env, int64_t deadline_ms, const std::string& refresh_token,
                               bool* refused);

// Where a Jira Cloud sign-in's API calls go: "{api}/ex/jira/{cloudId}".
std::string jira_gateway_url(const SigninContext* ctx, const std::string& cloud_id);

}  // namespace tracklight::firmware
