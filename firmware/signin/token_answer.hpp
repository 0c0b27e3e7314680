// Reading what an OAuth 2.0 token endpoint answers (RFC 6749 section 5, Microsoft Entra, Azure
// IMDS and Arc, Atlassian): the tokens on success, the error and its code on failure. Read
// through JsonDoc, so a field of the wrong type is named, never thrown. IMDS sends its numbers
// as strings; both forms are read.
#pragma once
#include <cstdint>
#include <string>
#include "firmware/model/connection.hpp"
#include "firmware/signin/access_tokens.hpp"
#include "platform/https_client.hpp"

namespace tracklight::firmware {

struct TrackerEnv;

struct TokenAnswer {
  std::string access_token, refresh_token;
  std::string id_token;           // OpenID Connect: who signed in (read, never verified or kept)
  int64_t expires_in_s = 0;       // 0: the answer did not say
  std::string error;              // "invalid_client", "authorization_pending" ...
  std::string description;        // Entra: "AADSTS7000215: Invalid client secret provided. ..."
  int64_t error_code = 0;         // Entra's error_codes[0], else the AADSTS number in the text
  std::string unreadable;         // why the answer could not be read ("" when it could)
  bool ok() const { return unreadable.empty() && error.empty() && !access_token.empty(); }
};

TokenAnswer read_token_answer(const platform::HttpsResponse& r);

// What one POST to a token endpoint gave: the answer read as a token answer, or (not reached)
// why the service could not be asked.
struct TokenReply {
  bool reached = false;
  TokenFetch failure;  // when not reached: "interrupted", with the host and the fix
  platform::HttpsResponse response;
  TokenAnswer answer;
};
// POSTs `body` to `url`, a sign-in service of `c` named `what` in messages ("Microsoft Entra ID"),
// through the connection's proxy and CA, with `headers` besides Accept.
TokenReply ask_token_service(const Connection& c, TrackerEnv& env, int64_t deadline_ms, const std::string& url,
                             const std::string& body, const char* content_type, const std::string& what,
                             const platform::HeaderList& headers = {});

// application/x-www-form-urlencoded from name/value pairs.
std::string form_body(std::initializer_list<std::pair<const char*, std::string>> fields);

}  // namespace tracklight::firmware
