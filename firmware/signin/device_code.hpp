// The device authorization grant of Microsoft Entra ID (RFC 8628; reference/tracker-apis.md
// "Device code"): the natural sign-in for a device without a browser. The person opens the
// verification page on a phone or laptop and types the code shown; the agent polls Entra's token
// endpoint at the interval given until they have. The refresh token it then receives is kept
// sealed in the flat file and renews the access token from then on.
#pragma once
#include <cstdint>
#include <string>
#include "firmware/model/connection.hpp"
#include "firmware/signin/access_tokens.hpp"

namespace tracklight::firmware {

struct TrackerEnv;

// What the person is shown to sign in with; or, when !ok, why Entra would not start.
struct DeviceCodeOffer {
  bool ok = false;
  std::string device_code;  // a secret: only the agent polls with it
  std::string user_code, verification_uri, message;
  int64_t expires_in_s = 0, interval_s = 0;
  TokenFetch failure;
};
DeviceCodeOffer entra_device_code(const Connection& c, TrackerEnv& env, int64_t deadline_ms);

// One poll of the token endpoint with the device code.
struct DevicePoll {
  enum State { Pending, SlowDown, Done, Failed } state = Failed;
  TokenFetch outcome;          // Done: the access token (and the refresh token); Failed: why
  std::string account;         // Done: who signed in ("mia@fabrikam.example"), when Entra said
};
DevicePoll entra_device_poll(const Connection& c, TrackerEnv& env, int64_t deadline_ms, const std::string& device_code);

// Why a sign-in ended when its code expired (Entra said so, or the time given ran out).
TokenFetch device_code_expired();

// A new access token from a refresh token; the outcome carries the rotated refresh token, if
// Entra sent one. A refused refresh token means the person must sign in again.
// `refused`, when given, says whether Entra refused the refresh token itself (invalid_grant).
TokenFetch entra_refresh(const Connection& c, TrackerEnv& env, int64_t deadline_ms, const std::string& refresh_token,
                         bool* refused = nullptr);

// The signed-in account named in an OpenID Connect id_token (preferred_username, else email or
// name); "" when the token does not say. Only read for display: the token came over TLS from
// Entra itself, and nothing is decided on it.
std::string id_token_account(const std::string& id_token);

}  // namespace tracklight::firmware
