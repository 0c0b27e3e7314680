// The API's connection decoder and validator: any body gives a named field error or a value,
// never a crash, and what encodes back never carries a secret.
#include <cstdint>
#include <string>

#include "firmware/web/connection_json.hpp"
#include "firmware/model/connection_rules.hpp"

using namespace tracklight::firmware;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string body(reinterpret_cast<const char*>(data), size);
  nlohmann::json j;
  if (!parse_json_body(body, j).empty()) return 0;
  ConnectionInput in;
  if (!decode_connection(j, in).field.empty()) return 0;
  Connection stored = in.conn;
  stored.api_key = "stored-secret";
  (void)merge_stored_secrets(in, &stored);
  (void)validate_connection(in.conn);
  nlohmann::json out = encode_connection(in.conn);
  for (size_t i = 0; i < kSecretFieldCount; ++i)
    if (out.contains(kSecretFields[i].name)) __builtin_trap();  // secrets are write-only
  for (const auto& h : out["headers"])
    if (h.contains("value")) __builtin_trap();
  return 0;
}
