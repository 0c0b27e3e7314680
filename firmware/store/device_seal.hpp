// Secrets sealed to another device, for `tracklight export --with-secrets --for KEY` and
// import (SPEC section 7). Each device has a provisioning key pair (X25519), made once and kept
// in <state-dir>/provisioning.key (0600); only its public part leaves the device, as one line:
//
//   x25519:<64 hex digits>
//
// A secret sealed for that key is written as
//
//   sealed-for:<fingerprint>:<base64 of ephemeral public key (32) | nonce (12) | ciphertext+tag>
//
// where the fingerprint is the first 8 bytes of SHA-256 of the recipient's public key, in hex.
// Every value has its own ephemeral key: X25519 with the recipient's key, HKDF-SHA256 (salt =
// ephemeral key | recipient key), AES-256-GCM with associated data naming the recipient key,
// the connection and the field, so a value moved to another field, connection or device does
// not open. Errors name the field's context but never hold a secret. Thread-safe (values).
#pragma once
#include <string>
#include "platform/entropy.hpp"
#include "platform/fs.hpp"
#include "platform/result.hpp"

namespace tracklight::firmware {

struct DevicePublicKey {
  std::string raw;  // 32 bytes
  std::string text() const;         // "x25519:<hex>"
  std::string fingerprint() const;  // 16 hex digits
};

// Reads "x25519:<64 hex>" (surrounding spaces allowed); the error says what is expected.
Result<DevicePublicKey> parse_device_public_key(const std::string& text);
bool looks_sealed_for(const std::string& value);
// The fingerprint a "sealed-for:" value names ("" when it names none).
std::string sealed_for_fingerprint(const std::string& value);

// `context` is "<connection id>/<field>" (header values: "<id>/header/<lower-case name>").
Result<std::string> seal_for_device(const DevicePublicKey& to, const std::string& context,
                                    const std::string& plaintext, platform::Entropy& entropy);

class ProvisioningKey {
 public:
  static Result<ProvisioningKey> from_private(const std::string& raw32);
  const DevicePublicKey& public_key() const { return public_; }
  // Opens a "sealed-for:" value. A value sealed for another device is refused before any
  // decryption, naming both fingerprints; an altered one fails the AEAD check.
  Result<std::string> open(const std::string& context, const std::string& value) const;

 private:
  std::string private_;
  DevicePublicKey public_;
};

// The key file: base64 of the 32-byte private key. `load` answers NotFound when there is none;
// `load_or_create` makes one first (never replacing an existing file), writing through
// `tmp_suffix` so the agent and a command line each use their own temporary file.
constexpr const char* kProvisioningKeyFile = "provisioning.key";
Result<ProvisioningKey> load_provisioning_key(platform::Fs& fs, const std::string& state_dir);
Result<ProvisioningKey> load_or_create_provisioning_key(platform::Fs& fs, platform::Entropy& entropy,
                                                        const std::string& state_dir,
                                                        const std::string& tmp_suffix);

}  // namespace tracklight::firmware
