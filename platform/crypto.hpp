// Cryptographic primitives, all from mbedTLS. Byte strings are std::string. Thread-safe.
#pragma once
#include <string>
#include "platform/result.hpp"

namespace tracklight::platform {

std::string sha256(const std::string& data);
Result<std::string> pbkdf2_sha256(const std::string& password, const std::string& salt,
                                  unsigned iterations, size_t out_len);
// AES-256-GCM; the output is ciphertext followed by the 16-byte tag.
Result<std::string> aes256gcm_seal(const std::string& key, const std::string& nonce,
                                   const std::string& aad, const std::string& plaintext);
// Fails (CryptoFailed) when the key, nonce, aad or data do not match: tampered or foreign.
Result<std::string> aes256gcm_open(const std::string& key, const std::string& nonce,
                                   const std::string& aad, const std::string& sealed);
// X25519 (RFC 7748) for sealing secrets to another device. Any 32 bytes are a private key
// (clamped as the RFC says); the public key is 32 bytes. x25519_shared refuses a peer key of
// the wrong length and a small-order one (an all-zero shared secret).
Result<std::string> x25519_public(const std::string& private_key);
Result<std::string> x25519_shared(const std::string& private_key, const std::string& peer_public);
// HKDF-SHA256 (RFC 5869), extract and expand.
Result<std::string> hkdf_sha256(const std::string& salt, const std::string& ikm, const std::string& info,
                                size_t out_len);
std::string base64_encode(const std::string& data);
// base64url without padding (RFC 4648 section 5), as JWTs and PKCE write it.
std::string base64url_encode(const std::string& data);
// SHA-256 of a certificate's DER, as browsers show it: upper-case hex pairs joined by colons.
std::string certificate_fingerprint(const std::string& der);
Result<std::string> base64_decode(const std::string& text);
bool constant_time_equal(const std::string& a, const std::string& b);
// Parses a PEM bundle; returns how many certificates it holds, or why it does not parse.
Result<int> count_pem_certificates(const std::string& pem);

}  // namespace tracklight::platform
