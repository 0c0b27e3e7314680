#include "firmware/store/secret_box.hpp"

#include "platform/crypto.hpp"

namespace tracklight::firmware {
namespace {
constexpr const char* kPrefix = "sealed:";
constexpr size_t kNonceLen = 12;
}  // namespace

bool SecretBox::looks_sealed(const std::string& value) { return value.rfind(kPrefix, 0) == 0; }

Result<std::string> SecretBox::seal(const std::string& context, const std::string& plaintext,
                                    platform::Entropy& entropy) const {
  auto nonce = entropy.bytes(kNonceLen);
  if (!nonce) return nonce.error();
  auto sealed = platform::aes256gcm_seal(key_, *nonce, "tracklight:v1:" + context, plaintext);
  if (!sealed) return sealed.error();
  return kPrefix + platform::base64_encode(*nonce + *sealed);
}

Result<std::string> SecretBox::open(const std::string& context, const std::string& value) const {
  if (!looks_sealed(value))
    return Error{ErrorCode::ConfigInvalid, "", 0,
                 "a secret must be stored sealed (\"sealed:...\"); enter secrets through the page or the API"};
  auto raw = platform::base64_decode(value.substr(7));
  if (!raw || raw->size() < kNonceLen + 16)
    return Error{ErrorCode::ConfigInvalid, "", 0, "the sealed value is damaged (not valid base64 or too short)"};
  auto plain = platform::aes256gcm_open(key_, raw->substr(0, kNonceLen),
                                        "tracklight:v1:" + context, raw->substr(kNonceLen));
  if (!plain)
    return Error{ErrorCode::CryptoFailed, "", 0,
                 "cannot unseal: the value was sealed with another device key, or was altered"};
  return *plain;
}

}  // namespace tracklight::firmware
