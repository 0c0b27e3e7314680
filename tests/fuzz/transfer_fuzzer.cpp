// The export-file parser (tracklight import): any bytes must give either problems, each with a
// line inside the file and a message, or a configuration that exports and imports again to the
// same connections; importing a file into what it describes changes nothing.
#include <cstdint>
#include <string>

#include "firmware/store/transfer.hpp"
#include "tests/support/fakes.hpp"

using namespace tracklight;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The same key as the seeds in corpus/transfer (provisioning.key = 32 bytes of 'r').
  static const firmware::ProvisioningKey key = *firmware::ProvisioningKey::from_private(std::string(32, 'r'));
  std::string text(reinterpret_cast<const char*>(data), size);
  size_t lines = 1;
  for (char c : text) lines += c == '\n';
  firmware::DecodedTransfer d = firmware::decode_transfer(text, &key);
  if (!d.problems.empty()) {
    for (const auto& p : d.problems)
      if (p.line > lines || p.message.empty()) __builtin_trap();
    return 0;
  }
  if (d.secrets_given.size() != d.config.connections.size()) __builtin_trap();
  test::CountingEntropy entropy;
  auto again = firmware::encode_transfer(d.config, &key.public_key(), entropy);
  if (!again) __builtin_trap();
  firmware::DecodedTransfer back = firmware::decode_transfer(*again, &key);
  if (!back.problems.empty() || back.config.connections.size() != d.config.connections.size()) __builtin_trap();
  for (size_t i = 0; i < back.config.connections.size(); ++i) {
    const auto& a = back.config.connections[i];
    const auto& b = d.config.connections[i];
    if (a.id != b.id || a.api_key != b.api_key || a.headers.size() != b.headers.size() || a.unknown != b.unknown)
      __builtin_trap();
  }
  if (firmware::plan_import(d.config, d, false).changes_anything()) __builtin_trap();
  (void)firmware::plan_import(firmware::Config{}, d, true);
  return 0;
}
