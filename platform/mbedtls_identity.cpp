// The HTTPS page's certificate on mbedTLS: an ECDSA P-256 key made once, and a self-signed
// certificate made again whenever the device's names or addresses change.
#include <mbedtls/pk.h>
#include <mbedtls/oid.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>
extern "C" {
#include <mbedtls/psa_util.h>  // declared without C++ guards
}

#include <algorithm>
#include <cstring>
#include <ctime>
#include <memory>

#include "platform/clock.hpp"
#include "platform/crypto.hpp"
#include "platform/internal/mbedtls_errors.hpp"
#include "platform/internal/mbedtls_init.hpp"
#include "platform/net_address.hpp"
#include "platform/tls_identity.hpp"

namespace tracklight::platform {
namespace {

constexpr int64_t kDay = 86400;
constexpr int64_t kLifetime = 397 * kDay;  // what browsers accept for a server certificate
constexpr int64_t kRenewBefore = 30 * kDay;
constexpr size_t kMaxPemFile = 64 * 1024;

struct Pk {
  mbedtls_pk_context pk;
  Pk() { mbedtls_pk_init(&pk); }
  ~Pk() { mbedtls_pk_free(&pk); }
};
struct Crt {
  mbedtls_x509_crt crt;
  Crt() { mbedtls_x509_crt_init(&crt); }
  ~Crt() { mbedtls_x509_crt_free(&crt); }
};

const unsigned char* u8(const std::string& s) { return reinterpret_cast<const unsigned char*>(s.c_str()); }

Error tls_error(const std::string& op, int rc, const std::string& what) {
  return Error{ErrorCode::CryptoFailed, op, rc, what + ": " + mbedtls_error_text(rc)};
}

int64_t unix_time(const mbedtls_x509_time& t) {  // days from civil (H. Hinnant), UTC
  const int y = t.year - (t.mon <= 2);
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (t.mon + (t.mon > 2 ? -3 : 9)) + 2) / 5 + t.day - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = static_cast<int64_t>(era) * 146097 + doe - 719468;
  return days * kDay + t.hour * 3600 + t.min * 60 + t.sec;
}

std::string x509_time_text(int64_t unix_s) {  // YYYYMMDDhhmmss, as x509write wants it
  const std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &tm);
  return buf;
}

std::vector<std::string> san_names(const mbedtls_x509_crt& crt) {
  std::vector<std::string> out;
  for (const mbedtls_x509_sequence* san = &crt.subject_alt_names; san && san->buf.p; san = san->next) {
    std::string raw(reinterpret_cast<const char*>(san->buf.p), san->buf.len);
    const int type = san->buf.tag & 0x1f;
    if (type == 2) out.push_back(raw);
    if (type == 7) out.push_back(format_ip(raw));
  }
  return out;
}

Status describe(TlsIdentity& id, const mbedtls_x509_crt& leaf) {
  id.fingerprint = certificate_fingerprint(std::string(reinterpret_cast<const char*>(leaf.raw.p), leaf.raw.len));
  unsigned char buf[512];
  int n = mbedtls_pk_write_pubkey_der(const_cast<mbedtls_pk_context*>(&leaf.pk), buf, sizeof buf);
  if (n < 0) return tls_error("TLS certificate", n, "cannot read the certificate's public key");
  id.spki_sha256 = base64_encode(sha256(std::string(reinterpret_cast<const char*>(buf + sizeof buf - n), n)));
  id.names = san_names(leaf);
  return ok_status();
}

Status parse_key(Pk& key, const std::string& pem, const std::string& file) {
  int rc = mbedtls_pk_parse_key(&key.pk, u8(pem), pem.size() + 1, nullptr, 0, mbedtls_psa_get_random,
                                MBEDTLS_PSA_RANDOM_STATE);
  if (rc != 0)
    return Error{ErrorCode::BadInput, file, rc,
                 "not a private key in PEM (an encrypted key must be decrypted first): " + mbedtls_error_text(rc)};
  return ok_status();
}

Status make_key(Pk& key, std::string& pem) {
  int rc = mbedtls_pk_setup(&key.pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
  if (rc == 0)
    rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key.pk), mbedtls_psa_get_random,
                             MBEDTLS_PSA_RANDOM_STATE);
  if (rc != 0) return tls_error("TLS key", rc, "cannot make an ECDSA P-256 key");
  unsigned char buf[1024];
  rc = mbedtls_pk_write_key_pem(&key.pk, buf, sizeof buf);
  if (rc != 0) return tls_error("TLS key", rc, "cannot write the key");
  pem.assign(reinterpret_cast<const char*>(buf));
  mbedtls_platform_zeroize(buf, sizeof buf);
  return ok_status();
}

Result<std::string> make_certificate(Pk& key, const std::vector<std::string>& dns, const std::vector<std::string>& ips,
                                     int64_t now) {
  std::vector<std::string> ip_bytes;
  for (const auto& ip : ips) {
    std::string raw;
    if (parse_ip_literal(ip, &raw)) ip_bytes.push_back(raw);
  }
  std::vector<mbedtls_x509_san_list> sans(dns.size() + ip_bytes.size());
  for (size_t i = 0; i < sans.size(); ++i) {
    const bool is_dns = i < dns.size();
    const std::string& v = is_dns ? dns[i] : ip_bytes[i - dns.size()];
    sans[i].node.type = is_dns ? MBEDTLS_X509_SAN_DNS_NAME : MBEDTLS_X509_SAN_IP_ADDRESS;
    sans[i].node.san.unstructured_name.p = const_cast<unsigned char*>(u8(v));
    sans[i].node.san.unstructured_name.len = v.size();
    // mbedTLS writes the list back to front: linked backwards, the certificate (and the log,
    // and a browser's certificate viewer) names host, <host>.local, localhost, then addresses.
    sans[i].next = i > 0 ? &sans[i - 1] : nullptr;
  }
  unsigned char serial[16];
  if (mbedtls_psa_get_random(MBEDTLS_PSA_RANDOM_STATE, serial, sizeof serial) != 0)
    return Error{ErrorCode::EntropyFailed, "TLS certificate", 0, "no random bytes for the serial number"};
  make_serial_minimal_positive(serial);
  mbedtls_x509write_cert w;
  mbedtls_x509write_crt_init(&w);
  std::unique_ptr<mbedtls_x509write_cert, void (*)(mbedtls_x509write_cert*)> guard(&w, mbedtls_x509write_crt_free);
  const std::string subject = "CN=" + (dns.empty() ? std::string("tracklight") : dns.front()) + ",O=tracklight device";
  mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
  mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
  mbedtls_x509write_crt_set_subject_key(&w, &key.pk);
  mbedtls_x509write_crt_set_issuer_key(&w, &key.pk);
  int rc = mbedtls_x509write_crt_set_serial_raw(&w, serial, sizeof serial);
  if (rc == 0) rc = mbedtls_x509write_crt_set_subject_name(&w, subject.c_str());
  if (rc == 0) rc = mbedtls_x509write_crt_set_issuer_name(&w, subject.c_str());
  if (rc == 0) rc = mbedtls_x509write_crt_set_validity(&w, x509_time_text(now - kDay).c_str(), x509_time_text(now + kLifetime).c_str());
  if (rc == 0) rc = mbedtls_x509write_crt_set_basic_constraints(&w, 0, -1);
  if (rc == 0) rc = mbedtls_x509write_crt_set_key_usage(&w, MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
  mbedtls_asn1_sequence server_auth{};
  server_auth.buf.tag = MBEDTLS_ASN1_OID;
  server_auth.buf.p = const_cast<unsigned char*>(reinterpret_cast<const unsigned char*>(MBEDTLS_OID_SERVER_AUTH));
  server_auth.buf.len = MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH);
  if (rc == 0) rc = mbedtls_x509write_crt_set_ext_key_usage(&w, &server_auth);
  if (rc == 0 && !sans.empty()) rc = mbedtls_x509write_crt_set_subject_alternative_name(&w, &sans.back());
  if (rc != 0) return tls_error("TLS certificate", rc, "cannot describe the certificate");
  std::string out(4096, '\0');
  rc = mbedtls_x509write_crt_pem(&w, reinterpret_cast<unsigned char*>(out.data()), out.size(), mbedtls_psa_get_random,
                                 MBEDTLS_PSA_RANDOM_STATE);
  if (rc != 0) return tls_error("TLS certificate", rc, "cannot sign the certificate");
  out.resize(std::strlen(out.c_str()));
  return out;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

void make_serial_minimal_positive(unsigned char (&serial)[16]) {
  // The top bit clear keeps it positive; the next bit set keeps the first byte from being zero,
  // which DER calls padding: 1 certificate in 256 was refused by OpenSSL ("PEM lib") before.
  serial[0] = static_cast<unsigned char>((serial[0] & 0x3f) | 0x40);
}

Result<TlsIdentity> device_tls_identity(Fs& fs, const std::string& dir, const std::vector<std::string>& dns_names,
                                        const std::vector<std::string>& ip_addresses, int64_t now) {
  Status st = tls_library_ready();
  if (!st) return st.error();
  const std::string key_path = dir + "/tls-key.pem", cert_path = dir + "/tls-cert.pem";
  TlsIdentity id;
  Pk key;
  auto key_text = fs.exists(key_path) ? fs.read_file(key_path, kMaxPemFile) : Result<std::string>(std::string());
  if (key_text && !key_text->empty() && parse_key(key, *key_text, key_path) &&
      mbedtls_pk_get_type(&key.pk) == MBEDTLS_PK_ECKEY) {
    id.key_pem = *key_text;
  } else {  // missing or damaged: a new key (a damaged one is of no use to anyone)
    mbedtls_pk_free(&key.pk);
    mbedtls_pk_init(&key.pk);
    st = make_key(key, id.key_pem);
    if (!st) return st.error();
    st = fs.write_file_atomic(key_path, id.key_pem, {});
    if (!st) return st.error();
    id.made = true;
  }
  std::vector<std::string> wanted = dns_names;
  for (const auto& ip : ip_addresses)
    if (parse_ip_literal(ip)) wanted.push_back(ip);
  auto cert_text = fs.exists(cert_path) ? fs.read_file(cert_path, kMaxPemFile) : Result<std::string>(std::string());
  if (!id.made && cert_text && !cert_text->empty()) {
    Crt crt;
    if (mbedtls_x509_crt_parse(&crt.crt, u8(*cert_text), cert_text->size() + 1) == 0 &&
        mbedtls_pk_check_pair(&crt.crt.pk, &key.pk, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE) == 0 &&
        (!wall_clock_plausible(now) ||  // a board without a real-time clock, before NTP: keep it
         (unix_time(crt.crt.valid_to) - now > kRenewBefore && unix_time(crt.crt.valid_from) <= now)) &&
        sorted(san_names(crt.crt)) == sorted(wanted)) {
      id.cert_pem = *cert_text;
      st = describe(id, crt.crt);
      if (!st) return st.error();
      return id;
    }
  }
  auto pem = make_certificate(key, dns_names, ip_addresses, now);
  if (!pem) return pem.error();
  st = fs.write_file_atomic(cert_path, *pem, {});
  if (!st) return st.error();
  Crt crt;
  int rc = mbedtls_x509_crt_parse(&crt.crt, u8(*pem), pem->size() + 1);
  if (rc != 0) return tls_error("TLS certificate", rc, "the certificate just made does not parse");
  id.cert_pem = *pem;
  id.made = true;
  st = describe(id, crt.crt);
  if (!st) return st.error();
  return id;
}

Result<TlsIdentity> tls_identity_from_files(Fs& fs, const std::string& cert_file, const std::string& key_file) {
  Status st = tls_library_ready();
  if (!st) return st.error();
  TlsIdentity id;
  auto cert = fs.read_file(cert_file, kMaxPemFile);
  if (!cert) return Error{ErrorCode::IoError, cert_file, 0, "cannot read the certificate: " + cert.error().detail};
  auto key = fs.read_file(key_file, kMaxPemFile);
  if (!key) return Error{ErrorCode::IoError, key_file, 0, "cannot read the private key: " + key.error().detail};
  Crt crt;
  int rc = mbedtls_x509_crt_parse(&crt.crt, u8(*cert), cert->size() + 1);
  if (rc != 0 || crt.crt.raw.len == 0)
    return Error{ErrorCode::BadInput, cert_file, rc, "not a certificate (chain) in PEM: " + mbedtls_error_text(rc)};
  Pk pk;
  st = parse_key(pk, *key, key_file);
  if (!st) return st.error();
  rc = mbedtls_pk_check_pair(&crt.crt.pk, &pk.pk, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
  if (rc != 0)
    return Error{ErrorCode::BadInput, key_file, rc, "this key does not belong to the certificate in " + cert_file};
  id.cert_pem = *cert;
  id.key_pem = *key;
  st = describe(id, crt.crt);
  if (!st) return st.error();
  return id;
}

}  // namespace tracklight::platform
