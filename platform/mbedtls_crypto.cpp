#include "platform/crypto.hpp"
#include "platform/internal/mbedtls_errors.hpp"
#include "platform/internal/mbedtls_init.hpp"

#include <mbedtls/base64.h>
extern "C" {
#include <mbedtls/constant_time.h>  // declared without C++ guards
}
#include <mbedtls/gcm.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>
#include <psa/crypto.h>


namespace tracklight::platform {
namespace {

const unsigned char* u8(const std::string& s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* u8(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

Error crypto_error(const char* op, int rc) { return Error{ErrorCode::CryptoFailed, op, rc, mbedtls_error_text(rc)}; }

}  // namespace

std::string sha256(const std::string& data) {
  std::string out(32, '\0');
  (void)mbedtls_sha256(u8(data), data.size(), u8(out), 0);
  return out;
}

Result<std::string> pbkdf2_sha256(const std::string& password, const std::string& salt,
                                  unsigned iterations, size_t out_len) {
  std::string out(out_len, '\0');
  int rc = mbedtls_pkcs5_pbkdf2_hmac_ext(MBEDTLS_MD_SHA256, u8(password), password.size(), u8(salt), salt.size(),
                                         iterations, static_cast<uint32_t>(out_len), u8(out));
  if (rc != 0) return crypto_error("mbedtls_pkcs5_pbkdf2_hmac_ext", rc);
  return out;
}

Result<std::string> aes256gcm_seal(const std::string& key, const std::string& nonce,
                                   const std::string& aad, const std::string& plaintext) {
  if (key.size() != 32) return Error{ErrorCode::CryptoFailed, "seal", 0, "key must be 32 bytes"};
  mbedtls_gcm_context gcm;
  mbedtls_gcm_init(&gcm);
  std::string out(plaintext.size() + 16, '\0');
  int rc = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, u8(key), 256);
  if (rc == 0) {
    rc = mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, plaintext.size(), u8(nonce),
                                   nonce.size(), u8(aad), aad.size(), u8(plaintext), u8(out),
                                   16, u8(out) + plaintext.size());
  }
  mbedtls_gcm_free(&gcm);
  if (rc != 0) return crypto_error("mbedtls_gcm_crypt_and_tag", rc);
  return out;
}

Result<std::string> aes256gcm_open(const std::string& key, const std::string& nonce,
                                   const std::string& aad, const std::string& sealed) {
  if (key.size() != 32 || sealed.size() < 16)
    return Error{ErrorCode::CryptoFailed, "unseal", 0, "malformed sealed value"};
  const size_t len = sealed.size() - 16;
  mbedtls_gcm_context gcm;
  mbedtls_gcm_init(&gcm);
  std::string out(len, '\0');
  int rc = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, u8(key), 256);
  if (rc == 0) {
    rc = mbedtls_gcm_auth_decrypt(&gcm, len, u8(nonce), nonce.size(), u8(aad), aad.size(),
                                  u8(sealed) + len, 16, u8(sealed), u8(out));
  }
  mbedtls_gcm_free(&gcm);
  if (rc != 0) return crypto_error("mbedtls_gcm_auth_decrypt", rc);
  return out;
}

namespace {

// A volatile PSA key for one X25519 operation; destroyed with this object.
class X25519Key {
 public:
  ~X25519Key() { (void)psa_destroy_key(id_); }
  Status import(const std::string& private_key) {
    Status ready = tls_library_ready();
    if (!ready) return ready;
    if (private_key.size() != 32) return Error{ErrorCode::CryptoFailed, "x25519", 0, "a private key must be 32 bytes"};
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_MONTGOMERY));
    psa_set_key_bits(&attr, 255);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_DERIVE);
    psa_set_key_algorithm(&attr, PSA_ALG_ECDH);
    psa_status_t st = psa_import_key(&attr, u8(private_key), private_key.size(), &id_);
    if (st != PSA_SUCCESS) return Error{ErrorCode::CryptoFailed, "psa_import_key", st, "the X25519 key was refused"};
    return ok_status();
  }
  psa_key_id_t id() const { return id_; }

 private:
  psa_key_id_t id_ = PSA_KEY_ID_NULL;
};

}  // namespace

Result<std::string> x25519_public(const std::string& private_key) {
  X25519Key key;
  Status st = key.import(private_key);
  if (!st) return st.error();
  std::string out(32, '\0');
  size_t len = 0;
  psa_status_t rc = psa_export_public_key(key.id(), u8(out), out.size(), &len);
  if (rc != PSA_SUCCESS || len != 32)
    return Error{ErrorCode::CryptoFailed, "psa_export_public_key", rc, "could not derive the X25519 public key"};
  return out;
}

Result<std::string> x25519_shared(const std::string& private_key, const std::string& peer_public) {
  if (peer_public.size() != 32) return Error{ErrorCode::CryptoFailed, "x25519", 0, "a public key must be 32 bytes"};
  X25519Key key;
  Status st = key.import(private_key);
  if (!st) return st.error();
  std::string out(32, '\0');
  size_t len = 0;
  psa_status_t rc = psa_raw_key_agreement(PSA_ALG_ECDH, key.id(), u8(peer_public), peer_public.size(), u8(out),
                                          out.size(), &len);
  if (rc != PSA_SUCCESS || len != 32)
    return Error{ErrorCode::CryptoFailed, "psa_raw_key_agreement", rc, "the X25519 key agreement failed"};
  // A small-order peer key makes the shared secret all zero, whatever our key (RFC 7748 s6.1).
  if (constant_time_equal(out, std::string(32, '\0')))
    return Error{ErrorCode::CryptoFailed, "x25519", 0, "the public key is not usable (small order)"};
  return out;
}

Result<std::string> hkdf_sha256(const std::string& salt, const std::string& ikm, const std::string& info,
                                size_t out_len) {
  std::string out(out_len, '\0');
  int rc = mbedtls_hkdf(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), u8(salt), salt.size(), u8(ikm), ikm.size(),
                        u8(info), info.size(), u8(out), out_len);
  if (rc != 0) return crypto_error("mbedtls_hkdf", rc);
  return out;
}

std::string base64_encode(const std::string& data) {
  size_t need = 0;
  mbedtls_base64_encode(nullptr, 0, &need, u8(data), data.size());
  std::string out(need, '\0');
  size_t len = 0;
  mbedtls_base64_encode(u8(out), out.size(), &len, u8(data), data.size());
  out.resize(len);
  return out;
}

std::string base64url_encode(const std::string& data) {
  std::string s = base64_encode(data);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (char& ch : s) ch = ch == '+' ? '-' : ch == '/' ? '_' : ch;
  return s;
}

Result<std::string> base64_decode(const std::string& text) {
  size_t need = 0;
  int rc = mbedtls_base64_decode(nullptr, 0, &need, u8(text), text.size());
  if (rc == MBEDTLS_ERR_BASE64_INVALID_CHARACTER)
    return Error{ErrorCode::BadInput, "base64", rc, "not valid base64"};
  std::string out(need, '\0');
  size_t len = 0;
  rc = mbedtls_base64_decode(u8(out), out.size(), &len, u8(text), text.size());
  if (rc != 0) return Error{ErrorCode::BadInput, "base64", rc, "not valid base64"};
  out.resize(len);
  return out;
}

std::string certificate_fingerprint(const std::string& der) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char b : sha256(der)) {
    if (!out.empty()) out += ':';
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

bool constant_time_equal(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  return mbedtls_ct_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<int> count_pem_certificates(const std::string& pem) {
  if (pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
    return Error{ErrorCode::BadInput, "PEM", 0, "no -----BEGIN CERTIFICATE----- block found"};
  mbedtls_x509_crt chain;
  mbedtls_x509_crt_init(&chain);
  std::string z = pem;  // mbedTLS wants the terminating NUL counted for PEM input
  int rc = mbedtls_x509_crt_parse(&chain, u8(z), z.size() + 1);
  int n = 0;
  for (const mbedtls_x509_crt* c = &chain; c && c->raw.len; c = c->next) ++n;
  mbedtls_x509_crt_free(&chain);
  if (rc < 0) return Error{ErrorCode::BadInput, "PEM", rc, mbedtls_error_text(rc)};
  if (rc > 0) return Error{ErrorCode::BadInput, "PEM", rc,
                           std::to_string(rc) + " certificate(s) in the bundle do not parse"};
  return n;
}

}  // namespace tracklight::platform
