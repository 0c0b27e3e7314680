// One-line text for the mbedTLS error codes the agent can meet, without linking mbedTLS's
// full error table (mbedtls_strerror costs 18 kB of the binary-size budget).
#pragma once
#include <string>

namespace tracklight::platform {

std::string mbedtls_error_text(int rc);  // "the certificate is not in PEM or DER format (mbedTLS -0x2180)"
std::string tls_alert_name(int description);  // 40 -> "handshake_failure", as the RFCs name them

}  // namespace tracklight::platform
