#include "platform/internal/mbedtls_errors.hpp"

#include <mbedtls/base64.h>
#include <mbedtls/gcm.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509.h>

#include <cstdio>

namespace tracklight::platform {
namespace {

struct Known {
  int code;
  const char* text;
};

// High-level codes (X.509, PEM, SSL) combine additively with a low-level one (ASN.1, bignum):
// both halves are looked up.
const Known kKnown[] = {
    {MBEDTLS_ERR_PEM_NO_HEADER_FOOTER_PRESENT, "no PEM header and footer"},
    {MBEDTLS_ERR_PEM_INVALID_DATA, "invalid PEM data"},
    {MBEDTLS_ERR_PEM_BAD_INPUT_DATA, "bad PEM input"},
    {MBEDTLS_ERR_PEM_UNKNOWN_ENC_ALG, "encrypted PEM is not supported"},
    {MBEDTLS_ERR_X509_INVALID_FORMAT, "the certificate's structure is invalid"},
    {MBEDTLS_ERR_X509_INVALID_VERSION, "unsupported certificate version"},
    {MBEDTLS_ERR_X509_INVALID_SERIAL, "invalid serial number"},
    {MBEDTLS_ERR_X509_INVALID_ALG, "invalid algorithm"},
    {MBEDTLS_ERR_X509_INVALID_NAME, "invalid name"},
    {MBEDTLS_ERR_X509_INVALID_DATE, "invalid validity dates"},
    {MBEDTLS_ERR_X509_INVALID_SIGNATURE, "invalid signature"},
    {MBEDTLS_ERR_X509_INVALID_EXTENSIONS, "invalid extensions"},
    {MBEDTLS_ERR_X509_UNKNOWN_SIG_ALG, "unknown signature algorithm"},
    {MBEDTLS_ERR_X509_CERT_UNKNOWN_FORMAT, "not a certificate in PEM or DER format"},
    {MBEDTLS_ERR_X509_BAD_INPUT_DATA, "bad input"},
    {MBEDTLS_ERR_X509_ALLOC_FAILED, "out of memory"},
    {MBEDTLS_ERR_X509_FILE_IO_ERROR, "cannot read the file"},
    {MBEDTLS_ERR_PK_UNKNOWN_PK_ALG, "a key type this build does not support (RSA and ECDSA are)"},
    {MBEDTLS_ERR_PK_UNKNOWN_NAMED_CURVE, "an elliptic curve this build does not support (P-256 and P-384 are)"},
    {MBEDTLS_ERR_SSL_CONN_EOF, "the server closed the connection"},
    {MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE, "the server aborted the handshake (fatal alert)"},
    {MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE, "no cipher suite or key exchange in common with the server"},
    {MBEDTLS_ERR_SSL_DECODE_ERROR, "the server sent a malformed handshake message"},
    {MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER, "the server sent an invalid handshake parameter"},
    {MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE, "the server sent a handshake message out of order"},
    {MBEDTLS_ERR_SSL_BAD_CERTIFICATE, "invalid server certificate message"},
    {MBEDTLS_ERR_SSL_INVALID_MAC, "a TLS record failed its integrity check"},
    {MBEDTLS_ERR_SSL_INVALID_RECORD, "invalid TLS record (is this port really HTTPS?)"},
    {MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION, "no TLS version in common with the server"},
    {MBEDTLS_ERR_NET_CONN_RESET, "the connection was reset"},
    {MBEDTLS_ERR_NET_RECV_FAILED, "receiving failed"},
    {MBEDTLS_ERR_NET_SEND_FAILED, "sending failed"},
    {MBEDTLS_ERR_GCM_AUTH_FAILED, "authentication failed (wrong key or altered data)"},
    {MBEDTLS_ERR_BASE64_INVALID_CHARACTER, "invalid base64"},
};

const char* lookup(int code) {
  for (const auto& k : kKnown)
    if (k.code == code) return k.text;
  return nullptr;
}

struct Alert {
  int description;
  const char* name;
};

// The alerts a server sends while refusing a handshake (RFC 8446 section 6, RFC 5246 7.2).
const Alert kAlerts[] = {
    {10, "unexpected_message"}, {20, "bad_record_mac"},     {22, "record_overflow"},
    {40, "handshake_failure"},  {42, "bad_certificate"},    {47, "illegal_parameter"},
    {48, "unknown_ca"},         {50, "decode_error"},       {51, "decrypt_error"},
    {70, "protocol_version"},   {71, "insufficient_security"}, {80, "internal_error"},
    {86, "inappropriate_fallback"}, {109, "missing_extension"}, {110, "unsupported_extension"},
    {112, "unrecognized_name"}, {116, "certificate_required"}, {120, "no_application_protocol"},
};

}  // namespace

std::string tls_alert_name(int description) {
  for (const auto& a : kAlerts)
    if (a.description == description) return a.name;
  return "alert " + std::to_string(description);
}

std::string mbedtls_error_text(int rc) {
  const int magnitude = rc < 0 ? -rc : rc;
  const char* high = lookup(-(magnitude & 0xFF80));
  const char* low = lookup(-(magnitude & 0x007F));
  const char* whole = lookup(rc);
  std::string text = whole ? whole : high ? high : low ? low : "error";
  if (!whole && high && low) text += std::string(": ") + low;
  char code[24];
  std::snprintf(code, sizeof code, " (mbedTLS -0x%04x)", magnitude);
  return text + code;
}

}  // namespace tracklight::platform
