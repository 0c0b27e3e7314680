// Outbound HTTPS for the Test checks: one verified TLS connection per server, reused for every
// request of a Test (keep-alive), through an optional HTTP CONNECT proxy.
//
// Guarantees: the certificate chain is verified against the system CA bundle plus the
// connection's own CA, and the host name (or IP address) against the certificate, before any
// request is written, so credentials never reach an unverified server. TLS 1.2 or newer. Every
// step (connect, proxy CONNECT, handshake, request, status line, headers, body) ends by the
// target's deadline, and a timeout names the step. Redirects are returned, never followed.
// Answers are capped (platform/internal/response_guard.hpp: 8 KiB lines, 100 header lines, 64 KiB of
// headers) and bodies above max_response_bytes refused, all as ResponseTooLarge. The CA bundle
// is parsed per connection and freed with it.
// Errors carry a precise ErrorCode, the phase in `op`, and a one-line message in `detail`.
// Thread-safety: a connection is used by one thread at a time.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include "platform/clock.hpp"
#include "platform/http_server.hpp"
#include "platform/result.hpp"

namespace tracklight::platform {

struct HttpsTarget {
  std::string host;  // DNS name or IP literal (IPv6 without brackets)
  int port = 443;
  bool host_is_ip = false;
  std::string extra_ca_pem;  // the connection's own CA certificate(s)
  std::string proxy_host;    // empty = direct
  int proxy_port = 0;
  std::string proxy_username, proxy_password;
  int64_t deadline_ms = 0;   // on the connector's clock (monotonic); every step stops there
  const std::atomic<bool>* cancel = nullptr;  // when it turns true, every step stops at once
  size_t max_response_bytes = 4u << 20;
  // Plain HTTP, no TLS: only for a managed-identity endpoint on this machine (Azure IMDS on
  // its link-local address, Azure Arc on loopback), which speak nothing else. The caller
  // restricts it to those addresses (firmware/signin/managed_identity.cpp).
  bool plain_http = false;
};

struct TlsPeer {
  std::string version;  // "TLSv1.2"
  std::string cipher;
  std::string subject, issuer, valid_from, valid_to;
  std::vector<std::string> names;  // subjectAltName DNS names and IP addresses
};

struct HttpsResponse {
  int status = 0;
  HeaderList headers;
  std::string body;
  const std::string* header(const std::string& name) const;
};

class HttpsConnection {
 public:
  virtual ~HttpsConnection() = default;
  // GET path (with query). `headers` are added to the request; Host and User-Agent are set.
  virtual Result<HttpsResponse> get(const std::string& path, const HeaderList& headers) = 0;
  // POST `body` of `content_type` (token endpoints: form-encoded or JSON). Same guarantees as get.
  virtual Result<HttpsResponse> post(const std::string& path, const HeaderList& headers, const std::string& body,
                                     const std::string& content_type) = 0;
  virtual const TlsPeer& peer() const = 0;
};

class HttpsConnector {
 public:
  virtual ~HttpsConnector() = default;
  // DNS, TCP (via the proxy when set), CONNECT, TLS handshake and verification.
  virtual Result<std::unique_ptr<HttpsConnection>> open(const HttpsTarget& target) = 0;
};

class MbedtlsConnector : public HttpsConnector {
 public:
  // ca_bundle_path "" = the first of the usual system bundle paths that exists.
  MbedtlsConnector(Clock& clock, std::string ca_bundle_path = "");
  Result<std::unique_ptr<HttpsConnection>> open(const HttpsTarget& target) override;

 private:
  Clock& clock_;
  std::string ca_bundle_path_;
};

// Opens a TCP connection (non-blocking connect bounded by the deadline). Returns the fd.
Result<int> connect_tcp(const std::string& host, int port, int64_t deadline_ms, Clock& clock,
                        const std::atomic<bool>* cancel = nullptr);
std::string basic_auth_value(const std::string& user, const std::string& password);  // "Basic ..."

}  // namespace tracklight::platform
