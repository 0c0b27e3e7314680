#include "firmware/signin/signin.hpp"

#include "firmware/model/connection_rules.hpp"
#include "firmware/signin/device_code.hpp"
#include "firmware/signin/entra.hpp"
#include "firmware/signin/jira_oauth2.hpp"
#include "firmware/tracker/endpoint.hpp"
#include "platform/crypto.hpp"

namespace tracklight::firmware {
namespace {

// What a token depends on: another identity, credential or route means another token. A digest,
// so the cache holds no second copy of a secret. Not the refresh token, which rotates: a person's
// sign-in is told apart by the connection and the account instead.
std::string token_key(const Connection& c) {
  std::string k;
  for (const std::string* v : {&c.provider, &c.auth, &c.server_url, &c.tenant_id, &c.client_id, &c.authority_host,
                               &c.client_secret, &c.ca_cert, &c.proxy_url, &c.proxy_username, &c.proxy_password,
                               &c.redirect_uri, &c.cloud_id})
    k += std::to_string(v->size()) + ":" + *v;
  if (keeps_refresh_token(c)) k += c.id + ":" + c.signed_in_as;
  return platform::sha256(k);
}

// A new access token from the newest refresh token; a rotated one is saved before it is used.
TokenFetch refreshed(const Connection& c, TrackerEnv& env, int64_t deadline_ms, const std::string& newest) {
  std::string used = newest.empty() ? c.refresh_token : newest;
  if (used.empty())
    return TokenFetch::failed("not-authorized", "The connection is not signed in", "Press Sign in and complete the sign-in.");
  bool refused = false;
  const auto refresh = c.provider == "jira" ? jira_oauth2_refresh : entra_refresh;
  TokenFetch f = refresh(c, env, deadline_ms, used, &refused);
  // Renewed by another process meanwhile (`tracklight test`): the stored token may be newer.
  if (refused && env.signin && env.signin->stored_refresh_token) {
    const std::string stored = env.signin->stored_refresh_token(c);
    if (!stored.empty() && stored != used) f = refresh(c, env, deadline_ms, used = stored, &refused);
  }
  if (!f.ok || f.refresh_token.empty() || !env.signin || !env.signin->keep_refresh_token) return f;
  const Result<bool> saved = env.signin->keep_refresh_token(c, used, f.refresh_token);
  if (saved && *saved) {
    f.refresh_token.clear();
    f.refresh_saved = true;
  }
  if (saved) return f;  // saved, or nowhere to save it: the slot keeps it
  // The new refresh token stays in memory (the next renewal starts from it and saves again).
  TokenFetch failed = TokenFetch::failed("interrupted", "The renewed sign-in could not be saved: " + saved.error().message(),
                                         "Free space on the device's storage or make it writable; this is retried.");
  failed.refresh_token = f.refresh_token;
  return failed;
}

TokenFetch fetch(const Connection& c, TrackerEnv& env, int64_t deadline_ms, const std::string& newest) {
  if (c.auth == "managed-identity") return managed_identity_token(c, env, deadline_ms);
  if (keeps_refresh_token(c)) return refreshed(c, env, deadline_ms, newest);
  return entra_client_credentials(c, env, deadline_ms);
}

}  // namespace

bool needs_signin(const Connection& c) {
  return keeps_refresh_token(c) ||
         (c.provider == "azure-devops" && (c.auth == "service-principal" || c.auth == "managed-identity"));
}

SigninResult authorize(const Connection& c, TrackerEnv& env, int64_t deadline_ms, const std::string& refused) {
  const int64_t t0 = env.clock.monotonic_ms();
  AccessTokens local;  // nothing is kept between calls without a context (unit tests, one-off runs)
  AccessTokens& tokens = env.signin ? env.signin->tokens : local;
  const std::string prefix = "Bearer ";
  const std::string refused_token = refused.compare(0, prefix.size(), prefix) == 0 ? refused.substr(prefix.size()) : "";
  SigninResult result;
  const TokenFetch f = tokens.get(token_key(c), t0, deadline_ms - t0, refused_token, result.from_cache,
                                  [&](const std::string& newest) { return fetch(c, env, deadline_ms, newest); },
                                  c.refresh_token);
  result.ok = f.ok;
  if (f.ok) result.authorization = prefix + f.token;
  if (f.ok && !c.cloud_id.empty() && c.provider == "jira")
    result.api_url = jira_gateway_url(env.signin, c.cloud_id);
  result.status = f.status;
  result.message = f.message;
  result.hint = f.hint;
  result.ms = env.clock.monotonic_ms() - t0;
  return result;
}

void keep_signin(SigninContext& signin, const Connection& c, int64_t now_ms, const TokenFetch& tokens) {
  signin.tokens.put(token_key(c), now_ms, tokens.token, tokens.expires_in_s);
}

std::string unsaved_refresh(SigninContext& signin, const Connection& c, const std::string& stored_refresh, bool take) {
  return signin.tokens.unsaved_refresh(token_key(c), stored_refresh, take);
}

void forget_token(SigninContext& signin, const Connection& c) { signin.tokens.forget(token_key(c)); }

}  // namespace tracklight::firmware
