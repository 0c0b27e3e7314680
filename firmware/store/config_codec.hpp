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
// A connection saved as not-verified may lack the secret its sign-in method needs (an import
// that could not carry it); Connect asks for it.
//
// Export files (tracklight export / import) are the same format with three differences: no
// admin_password, board_key or status lines; a secret is either absent or sealed for the
// receiving device ("sealed-for:", see device_seal.hpp); a header may be given by name alone
// ("header = X-Token") when its value is not in the file. decode_transfer reports every problem
// it finds, each with its line, rather than only the first.
#pragma once
#include <set>
#include <string>
#include <vector>
#include "firmware/model/config.hpp"
#include "firmware/store/device_seal.hpp"
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

struct LineProblem {
  size_t line;          // 1-based; 0 for the file as a whole
  std::string message;  // names the connection and field; never holds a secret
};

struct DecodedTransfer {
  Config config;
  // Per connection, in file order: the secret fields the file carries ("api_key", and
  // "header/<lower-case name>" for header values), and the line of its [connection] header.
  std::vector<std::set<std::string>> secrets_given;
  std::vector<size_t> section_lines;
  std::vector<std::string> warnings;
  std::vector<LineProblem> problems;  // empty: the whole file is valid
};

constexpr size_t kMaxTransferLine = 128 * 1024;
constexpr size_t kMaxTransferProblems = 50;

// `key` opens the values sealed for this device; nullptr when it has no provisioning key.
DecodedTransfer decode_transfer(const std::string& text, const ProvisioningKey* key);
// The connections and agent settings of `config` (the caller picks the connections) without the
// admin password hash, the board key or statuses. Secrets are left out, or sealed for `to`.
Result<std::string> encode_transfer(const Config& config, const DevicePublicKey* to, platform::Entropy& entropy);

// Value quoting, exposed for tests.
std::string encode_value(const std::string& value);
bool decode_value(const std::string& raw, std::string& out, std::string& why);

}  // namespace tracklight::firmware
