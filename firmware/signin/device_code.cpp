#include "firmware/signin/device_code.hpp"

#include "firmware/model/text.hpp"
#include "firmware/model/url.hpp"
#include "firmware/signin/entra.hpp"
#include "firmware/tracker/json_read.hpp"
#include "platform/crypto.hpp"

namespace tracklight::firmware {
namespace {

// offline_access brings the refresh token; openid and profile the account's name for the page.
constexpr const char* kDelegatedScopes = "499b84ac-1321-427f-aa17-267ca6975798/.default offline_access openid profile";
constexpr const char* kDeviceGrant = "urn:ietf:params:oauth:grant-type:device_code";

const char* const kSignInAgain = "Open the connection on the device's page, press Sign in and complete the sign-in again.";

int64_t clamp(std::optional<int64_t> v, int64_t lo, int64_t hi, int64_t otherwise) {
  if (!v) return otherwise;
  return *v < lo ? lo : *v > hi ? hi : *v;
}


}  // namespace

DeviceCodeOffer entra_device_code(const Connection& c, TrackerEnv& env, int64_t deadline_ms) {
  DeviceCodeOffer o;
  EntraReply r = ask_entra(c, env, deadline_ms, entra_endpoint_base(c) + "devicecode",
                           form_body({{"client_id", c.client_id}, {"scope", kDelegatedScopes}}));
  if (!r.reached) {
    o.failure = r.failure;
    return o;
  }
  if (r.response.status != 200 || !r.answer.error.empty()) {
    o.failure = entra_failure(c, r.answer, r.response.status);
    return o;
  }
  JsonDoc doc(r.response);
  const JsonNode j = doc.root().as_object();
  o.device_code = j.string("device_code");
  o.user_code = j.string("user_code");
  o.verification_uri = j.string("verification_uri");
  o.message = clip_utf8(j.string("message"), 400);
  // RFC 8628: 5 s when the interval is not given; Entra's codes live 15 minutes.
  o.interval_s = clamp(j.int64("interval"), 1, 60, 5);
  o.expires_in_s = clamp(j.int64("expires_in"), 60, 3600, 900);
  Url u;
  std::string why = doc.failed() ? doc.first_error() : "";
  if (why.empty() && (!printable(o.device_code, 4096) || !printable(o.user_code, 64)))
    why = "the answer has no device_code or user_code";
  else if (why.empty() && (!parse_url(o.verification_uri, u).empty() || u.scheme != "https"))
    why = "the verification_uri is not an https:// address";
  if (!why.empty()) {
    o.failure = TokenFetch::failed("interrupted", "Microsoft Entra ID's device code answer cannot be used: " + why,
                                   "Check the Authority host: something other than Entra ID may have answered.");
    return o;
  }
  if (!printable(o.message, 400)) o.message.clear();
  o.ok = true;
  return o;
}

DevicePoll entra_device_poll(const Connection& c, TrackerEnv& env, int64_t deadline_ms, const std::string& device_code) {
  DevicePoll p;
  EntraReply r = ask_entra(c, env, deadline_ms, entra_endpoint_base(c) + "token",
                           form_body({{"grant_type", kDeviceGrant}, {"client_id", c.client_id}, {"device_code", device_code}}));
  if (!r.reached) {
    p.state = DevicePoll::Pending;  // a network hiccup: the next poll tries again
    p.outcome = r.failure;
    return p;
  }
  const TokenAnswer& a = r.answer;
  if (a.ok()) {
    p.state = DevicePoll::Done;
    p.outcome = TokenFetch::token_of(a.access_token, a.expires_in_s);
    p.outcome.refresh_token = a.refresh_token;
    p.account = id_token_account(a.id_token);
    if (a.refresh_token.empty()) {
      p.state = DevicePoll::Failed;
      p.outcome = TokenFetch::failed("not-authorized", "Microsoft Entra ID gave no refresh token, so the sign-in cannot be kept",
                                     "The app registration must allow the offline_access permission (API permissions).");
    }
    return p;
  }
  if (a.error == "authorization_pending") {
    p.state = DevicePoll::Pending;
    return p;
  }
  if (a.error == "slow_down") {
    p.state = DevicePoll::SlowDown;
    return p;
  }
  p.state = DevicePoll::Failed;
  if (a.error == "expired_token" || a.error == "code_expired")
    p.outcome = device_code_expired();
  else if (a.error == "authorization_declined")
    p.outcome = TokenFetch::failed("not-authorized", "The sign-in was declined on the verification page",
                                   "Press Sign in again and accept the request for this device.");
  else if (a.error == "access_denied")
    p.outcome = TokenFetch::failed("not-authorized", "Microsoft Entra ID denied the sign-in" +
                                       (a.error_code ? " (AADSTS" + std::to_string(a.error_code) + ")" : std::string()),
                                   "Ask your Entra administrator to assign your account to the app, or sign in with an account that is.");
  else if (a.error == "bad_verification_code")
    p.outcome = TokenFetch::failed("not-authorized", "Microsoft Entra ID no longer knows this code", "Press Sign in again for a new code.");
  else
    p.outcome = entra_failure(c, a, r.response.status);
  return p;
}

TokenFetch entra_refresh(const Connection& c, TrackerEnv& env, int64_t deadline_ms, const std::string& refresh_token,
                         bool* refused) {
  if (refused) *refused = false;
  EntraReply r = ask_entra(c, env, deadline_ms, entra_endpoint_base(c) + "token",
                           form_body({{"grant_type", "refresh_token"},
                                      {"client_id", c.client_id},
                                      {"scope", kDelegatedScopes},
                                      {"refresh_token", refresh_token}}));
  if (!r.reached) return r.failure;
  const TokenAnswer& a = r.answer;
  if (a.ok()) {
    TokenFetch f = TokenFetch::token_of(a.access_token, a.expires_in_s);
    f.refresh_token = a.refresh_token;  // empty: Entra kept the old one valid
    return f;
  }
  TokenFetch f = entra_failure(c, a, r.response.status);
  // A revoked, expired or unknown refresh token (the password changed, the session was revoked,
  // 90 days unused): only a new sign-in helps.
  if (a.error == "invalid_grant" && a.error_code != 50076 && a.error_code != 50079) {
    if (refused) *refused = true;
    f.message = "The sign-in has expired or was revoked" + (a.error_code ? " (AADSTS" + std::to_string(a.error_code) + ")" : std::string());
    f.hint = kSignInAgain;
  }
  return f;
}

TokenFetch device_code_expired() {
  return TokenFetch::failed("not-authorized", "The code expired before the sign-in was completed",
                            "Press Sign in again for a new code, and enter it within the time shown.");
}

std::string id_token_account(const std::string& id_token) {
  const size_t a = id_token.find('.'), b = a == std::string::npos ? a : id_token.find('.', a + 1);
  if (b == std::string::npos || b - a - 1 > 8192) return "";
  std::string payload = id_token.substr(a + 1, b - a - 1);
  for (char& ch : payload) ch = ch == '-' ? '+' : ch == '_' ? '/' : ch;
  while (payload.size() % 4) payload += '=';
  auto json = platform::base64_decode(payload);
  if (!json) return "";
  JsonDoc doc(*json);
  const JsonNode claims = doc.root().as_object();
  for (const char* claim : {"preferred_username", "email", "upn", "name"}) {
    const std::string v = claims.string(claim);
    if (printable(v, 256)) return v;
  }
  return "";
}

}  // namespace tracklight::firmware
