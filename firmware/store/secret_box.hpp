// Seals secrets for the flat file with AES-256-GCM under the device key. The associated data
// binds each sealed value to its connection and field, so values cannot be swapped between
// fields or connections in the file. This protects copies and backups of the config, not the
// device itself: the key sits beside it (0600).
#pragma once
#include <string>
#include "platform/entropy.hpp"
#include "platform/result.hpp"

namespace tracklight::firmware {

class SecretBox {
 public:
  explicit SecretBox(std::string key) : key_(std::move(key)) {}
  Result<std::string> seal(const std::string& context, const std::string& plaintext,
                           platform::Entropy& entropy) const;  // "sealed:<base64>"
  Result<std::string> open(const std::string& context, const std::string& sealed) const;
  static bool looks_sealed(const std::string& value);

 private:
  std::string key_;  // 32 bytes
};

}  // namespace tracklight::firmware
