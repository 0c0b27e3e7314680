// The flat file: line-oriented, human-readable, versioned.
//
//   # comment
//   version = 1
//   [agent]
//   admin_password = pbkdf2-sha256$...
//   [connection jira-main]
//   server_url = https://example.atlassian.net
//   api_key = sealed:...           secrets are always sealed (SecretBox)
//   header = X-Token sealed:...    repeatable
//   ca_cert = "-----BEGIN...\n..." values with edge spaces, quotes or control characters are
//                                  written quoted with \\ \" \n \r \t \xHH escapes
//
// decode_config reports the first problem as Error{ConfigInvalid, "line N", ...} and never
// returns a partly read config. Keys it does not know are kept and reported as warnings.
#pragma once
#include <string>
#include <vector>
#include "firmware/model/config.hpp"
#include "firmware/store/secret_box.hpp"

namespace tracklight::firmware {

constexpr size_t kMaxConfigBytes = 1024 * 1024;

struct DecodedConfig {
  Config config;
  std::vector<std::string> warnings;  // "line N: unknown key 'x' kept as is"
};

Result<DecodedConfig> decode_config(const std::string& text, const SecretBox& box);
Result<std::string> encode_config(const Config& config, const SecretBox& box,
                                  platform::Entropy& entropy);

// Value quoting, exposed for tests.
std::string encode_value(const std::string& value);
bool decode_value(const std::string& raw, std::string& out, std::string& why);

}  // namespace tracklight::firmware
