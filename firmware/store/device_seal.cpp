#include "firmware/store/device_seal.hpp"

#include "firmware/model/text.hpp"
#include "platform/crypto.hpp"

namespace tracklight::firmware {
namespace {

constexpr const char* kKeyPrefix = "x25519:";
constexpr const char* kSealedPrefix = "sealed-for:";
constexpr size_t kKeyLen = 32, kNonceLen = 12, kTagLen = 16, kFingerprintLen = 16;
constexpr const char* kInfo = "tracklight export v1 aes-256-gcm";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string aad_for(const DevicePublicKey& to, const std::string& context) {
  return "tracklight:export:v1:" + to.text() + ":" + context;
}

Result<std::string> derive_key(const std::string& shared, const std::string& ephemeral, const DevicePublicKey& to) {
  return platform::hkdf_sha256(ephemeral + to.raw, shared, kInfo, 32);
}

// The detail follows the field's name: "api_key is damaged (...)".
Error damaged(const std::string& why) { return Error{ErrorCode::CryptoFailed, "", 0, why}; }

}  // namespace

std::string DevicePublicKey::text() const { return kKeyPrefix + to_hex(raw); }

std::string DevicePublicKey::fingerprint() const { return to_hex(platform::sha256(raw).substr(0, kFingerprintLen / 2)); }

Result<DevicePublicKey> parse_device_public_key(const std::string& text) {
  size_t b = text.find_first_not_of(" \t\r\n"), e = text.find_last_not_of(" \t\r\n");
  const std::string t = b == std::string::npos ? "" : text.substr(b, e - b + 1);
  const Error bad{ErrorCode::BadInput, "device key", 0,
                  "expected x25519: followed by 64 hex digits, as `tracklight device-key --public` prints it on the receiving device"};
  if (t.rfind(kKeyPrefix, 0) != 0 || t.size() != 7 + 2 * kKeyLen) return bad;
  DevicePublicKey k;
  for (size_t i = 7; i < t.size(); i += 2) {
    int hi = hex_value(t[i]), lo = hex_value(t[i + 1]);
    if (hi < 0 || lo < 0) return bad;
    k.raw += static_cast<char>(hi * 16 + lo);
  }
  // A low-order point (all zeros, say) gives every sender the same known shared secret: refuse
  // it here, as a bad key, rather than fail later while sealing.
  if (!platform::x25519_shared(std::string(kKeyLen, '\x5a'), k.raw))
    return Error{ErrorCode::BadInput, "device key", 0,
                 "is not a usable X25519 public key (a low-order point); copy it again from `tracklight device-key --public`"};
  return k;
}

bool looks_sealed_for(const std::string& value) { return value.rfind(kSealedPrefix, 0) == 0; }

std::string sealed_for_fingerprint(const std::string& value) {
  if (!looks_sealed_for(value)) return "";
  size_t colon = value.find(':', 11);
  return colon == std::string::npos ? "" : value.substr(11, colon - 11);
}

Result<std::string> seal_for_device(const DevicePublicKey& to, const std::string& context,
                                    const std::string& plaintext, platform::Entropy& entropy) {
  auto eph_private = entropy.bytes(kKeyLen);
  if (!eph_private) return eph_private.error();
  auto eph_public = platform::x25519_public(*eph_private);
  if (!eph_public) return eph_public.error();
  auto shared = platform::x25519_shared(*eph_private, to.raw);
  if (!shared) return shared.error();
  auto key = derive_key(*shared, *eph_public, to);
  if (!key) return key.error();
  auto nonce = entropy.bytes(kNonceLen);
  if (!nonce) return nonce.error();
  auto sealed = platform::aes256gcm_seal(*key, *nonce, aad_for(to, context), plaintext);
  if (!sealed) return sealed.error();
  return kSealedPrefix + to.fingerprint() + ":" + platform::base64_encode(*eph_public + *nonce + *sealed);
}

Result<ProvisioningKey> ProvisioningKey::from_private(const std::string& raw32) {
  auto pub = platform::x25519_public(raw32);
  if (!pub) return pub.error();
  ProvisioningKey k;
  k.private_ = raw32;
  k.public_.raw = *pub;
  return k;
}

Result<std::string> ProvisioningKey::open(const std::string& context, const std::string& value) const {
  if (!looks_sealed_for(value))
    return damaged("is not a sealed-for: value");
  const std::string fp = sealed_for_fingerprint(value);
  if (fp.size() != kFingerprintLen || fp.find_first_not_of("0123456789abcdef") != std::string::npos)
    return damaged("is damaged (expected sealed-for:<16 hex digits>:<base64>)");
  if (fp != public_.fingerprint())
    return Error{ErrorCode::CryptoFailed, "", 0,
                 "is sealed for another device (key " + fp + "), not this one (key " + public_.fingerprint() +
                     "); export again with --for and the output of `tracklight device-key --public` on this device"};
  auto raw = platform::base64_decode(value.substr(11 + kFingerprintLen + 1));
  if (!raw || raw->size() < kKeyLen + kNonceLen + kTagLen)
    return damaged("is damaged (not valid base64, or too short)");
  auto shared = platform::x25519_shared(private_, raw->substr(0, kKeyLen));
  if (!shared) return damaged("is damaged (its ephemeral key is not usable)");
  auto key = derive_key(*shared, raw->substr(0, kKeyLen), public_);
  if (!key) return key.error();
  auto plain = platform::aes256gcm_open(*key, raw->substr(kKeyLen, kNonceLen), aad_for(public_, context),
                                        raw->substr(kKeyLen + kNonceLen));
  if (!plain) return damaged("cannot be opened: the sealed value was altered, or moved from another field or connection");
  return *plain;
}

Result<ProvisioningKey> load_provisioning_key(platform::Fs& fs, const std::string& state_dir) {
  const std::string path = state_dir + "/" + kProvisioningKeyFile;
  if (!fs.exists(path))
    return Error{ErrorCode::NotFound, path, 0, "this device has no provisioning key yet (tracklight device-key --public makes it)"};
  auto text = fs.read_state_file(path, 1024);
  if (!text) return text.error();
  std::string b64 = *text;
  while (!b64.empty() && (b64.back() == '\n' || b64.back() == '\r')) b64.pop_back();
  auto raw = platform::base64_decode(b64);
  if (!raw || raw->size() != kKeyLen)
    return Error{ErrorCode::ConfigInvalid, path, 0, "the provisioning key is damaged (expected 32 bytes in base64)"};
  return ProvisioningKey::from_private(*raw);
}

Result<ProvisioningKey> load_or_create_provisioning_key(platform::Fs& fs, platform::Entropy& entropy,
                                                        const std::string& state_dir,
                                                        const std::string& tmp_suffix) {
  const std::string path = state_dir + "/" + kProvisioningKeyFile;
  if (!fs.exists(path)) {
    Status st = fs.make_private_dir(state_dir);
    if (!st) return st.error();
    auto raw = entropy.bytes(kKeyLen);
    if (!raw) return raw.error();
    platform::AtomicWriteOptions opts;
    opts.tmp_suffix = tmp_suffix;
    opts.create_only = true;  // the agent and `device-key` may both make one: the first one stays
    (void)fs.remove(path + tmp_suffix);  // our own, from a write that was cut short
    st = fs.write_file_atomic(path, platform::base64_encode(*raw) + "\n", opts);
    if (!st && st.error().code != ErrorCode::Conflict) return st.error();
  }
  return load_provisioning_key(fs, state_dir);
}

}  // namespace tracklight::firmware
