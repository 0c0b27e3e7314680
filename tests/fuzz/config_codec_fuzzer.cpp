// The flat-file parser: any bytes must give a config or a line-numbered error, and whatever
// decodes must encode and decode again to the same connections.
#include <cstdint>
#include <string>

#include "firmware/store/config_codec.hpp"
#include "tests/support/fakes.hpp"

using namespace tracklight;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const firmware::SecretBox box(std::string(32, 'k'));
  std::string text(reinterpret_cast<const char*>(data), size);
  auto decoded = firmware::decode_config(text, box);
  if (!decoded) {
    if (decoded.error().op.rfind("line ", 0) != 0) __builtin_trap();
    return 0;
  }
  test::CountingEntropy entropy;
  auto again = firmware::encode_config(decoded->config, box, entropy);
  if (!again) __builtin_trap();
  auto back = firmware::decode_config(*again, box);
  if (!back || back->config.connections.size() != decoded->config.connections.size()) __builtin_trap();
  for (size_t i = 0; i < back->config.connections.size(); ++i) {
    const auto& a = back->config.connections[i];
    const auto& b = decoded->config.connections[i];
    if (a.id != b.id || a.name != b.name || a.token != b.token || a.ca_cert != b.ca_cert ||
        a.board.pipelines != b.board.pipelines || a.unknown != b.unknown)
      __builtin_trap();
  }
  return 0;
}
