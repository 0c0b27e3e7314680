#include "firmware/signin/signin.hpp"

#include "firmware/signin/entra.hpp"
#include "firmware/tracker/endpoint.hpp"
#include "platform/crypto.hpp"

namespace tracklight::firmware {
namespace {

// What a token depends on: another identity, credential or route means another token. A digest,
// so the cache holds no second copy of a secret.
std::string token_key(const Connection& c) {
  std::string k;
  for (const std::string* v : {&c.provider, &c.auth, &c.server_url, &c.tenant_id, &c.client_id, &c.authority_host,
                               &c.client_secret, &c.ca_cert, &c.proxy_url, &c.proxy_username, &c.proxy_password})
    k += std::to_string(v->size()) + ":" + *v;
  return platform::sha256(k);
}

TokenFetch fetch(const Connection& c, TrackerEnv& env, int64_t deadline_ms) {
  if (c.auth == "managed-identity") return managed_identity_token(c, env, deadline_ms);
  return entra_client_credentials(c, env, deadline_ms);
}

}  // namespace

bool needs_signin(const Connection& c) {
  return c.provider == "azure-devops" && (c.auth == "service-principal" || c.auth == "managed-identity");
}

SigninResult authorize(const Connection& c, TrackerEnv& env, int64_t deadline_ms, const std::string& refused) {
  const int64_t t0 = env.clock.monotonic_ms();
  AccessTokens local;  // nothing is kept between calls without a context (unit tests, one-off runs)
  AccessTokens& tokens = env.signin ? env.signin->tokens : local;
  const std::string prefix = "Bearer ";
  const std::string refused_token = refused.compare(0, prefix.size(), prefix) == 0 ? refused.substr(prefix.size()) : "";
  SigninResult result;
  const TokenFetch f = tokens.get(token_key(c), t0, deadline_ms - t0, refused_token, result.from_cache,
                                  [&] { return fetch(c, env, deadline_ms); });
  result.ok = f.ok;
  if (f.ok) result.authorization = prefix + f.token;
  result.status = f.status;
  result.message = f.message;
  result.hint = f.hint;
  result.ms = env.clock.monotonic_ms() - t0;
  return result;
}

void forget_token(SigninContext& signin, const Connection& c) { signin.tokens.forget(token_key(c)); }

}  // namespace tracklight::firmware
