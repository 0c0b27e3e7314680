// Sign-in through an identity provider (SPEC section 1, "Sign-in flows"): for the methods that
// send a Bearer token from Microsoft Entra ID (or, later, Atlassian and Jira's own OAuth), the
// token is obtained before the tracker is asked. Test, the monitor, the board and `tracklight
// test` all go through authorize(), so they share the in-memory tokens and refresh them the
// same way.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include "firmware/model/connection.hpp"
#include "firmware/signin/access_tokens.hpp"
#include "firmware/signin/managed_identity.hpp"
#include "platform/fs.hpp"

namespace tracklight::firmware {

struct TrackerEnv;

// What sign-in needs beyond a connection's settings; one per agent (or per CLI command).
struct SigninContext {
  AccessTokens tokens;
  ManagedIdentitySettings managed_identity;
  platform::Fs* fs = nullptr;  // reads Azure Arc's key file; without it Arc is not offered
  // Atlassian's two hosts for Jira Cloud OAuth 2.0 (--atlassian-auth-url, --atlassian-api-url).
  std::string atlassian_auth_url = "https://auth.atlassian.com";
  std::string atlassian_api_url = "https://api.atlassian.com";
  // Saves a rotated refresh token in the stored connection `c.id`, if that connection still
  // holds `used` (or c.refresh_token): atomically, before the new access token is used. True
  // when saved; false when no stored connection holds this sign-in (not saved yet, signed in
  // anew): the token is then kept in memory. Without it (unit tests) nothing is saved.
  std::function<Result<bool>(const Connection& c, const std::string& used, const std::string& fresh)> keep_refresh_token;
  // The refresh token stored for `c` now, read again when the file changed on disk (`tracklight
  // test` renews beside the agent); "" when none. Asked when Entra refused the one in hand.
  std::function<std::string(const Connection& c)> stored_refresh_token;
};

struct SigninResult {
  bool ok = false;
  std::string authorization;  // the Authorization header value, when ok
  bool from_cache = false;    // a kept token: a 401 from the tracker may mean it was revoked
  std::string api_url;       // where the tracker's API is reached instead of Server URL ("": there)
  // When not ok: the report status ("not-authorized": the settings must change; "interrupted":
  // the sign-in service could not be reached or failed, retried), the message and the fix.
  // Never a secret.
  std::string status, message, hint;
  int64_t ms = 0;
};

// The connection signs in through an identity provider before the tracker is asked.
bool needs_signin(const Connection& c);

// A token for `c` from the cache, or a new one. `refused`: the Authorization value the tracker
// refused (a kept token revoked meanwhile): it is replaced, unless another caller already did.
// Ends by `deadline_ms` (the caller's monotonic deadline).
SigninResult authorize(const Connection& c, TrackerEnv& env, int64_t deadline_ms, const std::string& refused = "");

// Keeps the tokens an interactive sign-in for `c` just gave, so the Test and Connect that follow
// use them without another request.
void keep_signin(SigninContext& signin, const Connection& c, int64_t now_ms, const TokenFetch& tokens);

// An unsaved rotated refresh token that replaced `stored_refresh` for `c`'s settings ("" when
// none): a Connect storing a sign-in renewed meanwhile saves it, then `take`s it (the slot
// forgets it only once it is saved).
std::string unsaved_refresh(SigninContext& signin, const Connection& c, const std::string& stored_refresh, bool take);

// Drops the token kept for `c`'s settings (the connection was removed).
void forget_token(SigninContext& signin, const Connection& c);

}  // namespace tracklight::firmware
