// The certificate the page is served with over HTTPS (SPEC section 2): the device's own, made at
// first start, or the person's own files.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "platform/fs.hpp"
#include "platform/result.hpp"

namespace tracklight::platform {

struct TlsIdentity {
  std::string cert_pem;  // the leaf first, then any chain the person's file carries
  std::string key_pem;   // a secret: never logged
  std::string fingerprint;  // SHA-256 of the leaf's DER, as browsers show it (AB:CD:...)
  std::string spki_sha256;  // base64 SHA-256 of its public key (what a browser can pin)
  std::vector<std::string> names;  // its DNS and IP subject alternative names
  bool made = false;  // the device certificate was (re)made at this start
};

// The device certificate in `dir` (tls-key.pem, tls-cert.pem, both 0600): ECDSA P-256,
// self-signed, with the given DNS names and IP addresses as subject alternative names. Made when
// missing, and made again (with the same key, so a pinned key stays valid) when the names differ,
// when it expires within 30 days, or when the files are damaged. While the clock is not plausible
// (wall_clock_plausible), the dates of a certificate on disk are not held against it.
Result<TlsIdentity> device_tls_identity(Fs& fs, const std::string& dir, const std::vector<std::string>& dns_names,
                                        const std::vector<std::string>& ip_addresses, int64_t now_unix_s);

// Turns 16 random bytes into a certificate serial number that is a positive INTEGER in minimal
// DER (RFC 5280 4.1.2.2, X.690 8.3.2), as OpenSSL and BoringSSL require: 126 random bits.
void make_serial_minimal_positive(unsigned char (&serial)[16]);

// The person's own certificate (PEM, chain allowed) and private key (PEM, not encrypted), checked
// to parse and to belong together.
Result<TlsIdentity> tls_identity_from_files(Fs& fs, const std::string& cert_file, const std::string& key_file);

}  // namespace tracklight::platform
