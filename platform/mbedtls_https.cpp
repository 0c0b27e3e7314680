// HTTPS over mbedTLS, with cpp-httplib's client doing the HTTP: a ClientImpl subclass supplies
// the connection (TCP, proxy CONNECT, TLS handshake and verification) and a Stream over the TLS
// session; cpp-httplib writes requests and parses responses (chunked, content-length).
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
extern "C" {
#include <mbedtls/psa_util.h>  // mbedtls_psa_get_random is declared without C++ guards
}
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <psa/crypto.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "platform/internal/http_exchange.hpp"
#include "platform/crypto.hpp"
#include "platform/internal/deadline_socket.hpp"
#include "platform/https_client.hpp"
#include "platform/internal/mbedtls_errors.hpp"
#include "platform/internal/mbedtls_init.hpp"
#include "platform/net_address.hpp"
#include "platform/internal/response_guard.hpp"

namespace tracklight::platform {
namespace {

const char* const kCaBundles[] = {"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
                                  "/etc/ssl/cert.pem"};

std::string x509_date(const mbedtls_x509_time& t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d UTC", t.year, t.mon, t.day, t.hour, t.min);
  return buf;
}

std::string dn_text(const mbedtls_x509_name* dn) {
  char buf[512];
  int n = mbedtls_x509_dn_gets(buf, sizeof buf, dn);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// X.509 codes (-0x2100 to -0x2F80, possibly plus a low-level ASN.1 code) other than "verify
// failed" and "out of memory" come from parsing the certificate message. -0x2080, "feature
// unavailable", is an algorithm this build lacks, not a damaged certificate.
bool x509_parse_error(int rc) {
  const int high = (rc < 0 ? -rc : rc) & 0xFF80;
  return rc < 0 && high > 0x2080 && high <= 0x2F80 && rc != MBEDTLS_ERR_X509_CERT_VERIFY_FAILED &&
         rc != MBEDTLS_ERR_X509_ALLOC_FAILED;
}

bool self_issued(const mbedtls_x509_crt& crt) {
  return crt.subject_raw.len == crt.issuer_raw.len &&
         std::memcmp(crt.subject_raw.p, crt.issuer_raw.p, crt.issuer_raw.len) == 0;
}

// The chain as mbedTLS built it, for telling an untrusted CA from a self-signed certificate or
// from a server that left out its intermediate.
struct ChainTop {
  int depth = -1;  // of the topmost certificate: 0 = the server's certificate stood alone
  bool self_issued = false;
  std::string issuer;
  std::string leaf_fingerprint;
};

// One TLS session over a connected non-blocking socket. Owns the mbedTLS state and the CA
// chain (freed with the session); the socket itself belongs to the cpp-httplib client.
class TlsSession {
 public:
  TlsSession(int fd, Clock& clock, int64_t deadline_ms, const std::atomic<bool>* cancel, const std::string& host)
      : io_(fd, clock, deadline_ms, cancel, "TLS handshake", "during TLS handshake with " + host) {
    mbedtls_ssl_config_init(&conf_);
    mbedtls_ssl_init(&ssl_);
    mbedtls_x509_crt_init(&ca_);
  }
  ~TlsSession() {
    mbedtls_ssl_free(&ssl_);
    mbedtls_ssl_config_free(&conf_);
    mbedtls_x509_crt_free(&ca_);
  }

  Status handshake(const HttpsTarget& t, const std::string& bundle_path);
  ssize_t read(char* buf, size_t len);
  ssize_t write(const char* buf, size_t len);
  bool readable_now() { return mbedtls_ssl_get_bytes_avail(&ssl_) > 0; }
  void close_notify() { mbedtls_ssl_close_notify(&ssl_); }
  DeadlineSocket& io() { return io_; }
  const TlsPeer& peer() const { return peer_; }
  // The reason the last read or write failed, when it was ours (deadline) rather than the peer's.
  const Error* failure() const { return io_.failure(); }

 private:
  Status load_trust(const HttpsTarget& t, const std::string& bundle_path);
  Error verify_error(uint32_t flags) const;
  Error untrusted_error(long code) const;
  // Callbacks from mbedTLS's C code, which is built without unwind tables: nothing may throw
  // through it, so on_verify catches (its strings can fail to allocate).
  static int on_verify(void* self, mbedtls_x509_crt* crt, int depth, uint32_t* flags) noexcept;
  int record_peer(mbedtls_x509_crt* crt, int depth, uint32_t* flags);
  static int bio_send(void* self, const unsigned char* buf, size_t len) noexcept;
  static int bio_recv(void* self, unsigned char* buf, size_t len) noexcept;
  // The description of the fatal alert the server answered with, when that was its first
  // record (a refusal of the ClientHello), or -1.
  int first_alert() const {
    const bool alert = first_len_ == sizeof first_ && first_[0] == MBEDTLS_SSL_MSG_ALERT && first_[3] == 0 &&
                       first_[4] == 2 && first_[5] == MBEDTLS_SSL_ALERT_LEVEL_FATAL;
    return alert ? first_[6] : -1;
  }
  Error handshake_error(int rc) const;

  DeadlineSocket io_;
  std::string host_, ip_;  // ip_: the target's address bytes when it is an IP literal
  mbedtls_ssl_config conf_;
  mbedtls_ssl_context ssl_;
  mbedtls_x509_crt ca_;
  TlsPeer peer_;
  ChainTop top_;
  // The server's first bytes: mbedTLS reports a fatal alert without saying which, and which one
  // tells the person what to do (protocol_version: the server is too old for TLS 1.2;
  // handshake_failure: nothing else in common). Before the handshake ends, alerts travel in the clear.
  unsigned char first_[7] = {};
  size_t first_len_ = 0;
};

Status TlsSession::load_trust(const HttpsTarget& t, const std::string& bundle_path) {
  std::string path = bundle_path;
  for (const char* p : kCaBundles)
    if (path.empty() && ::access(p, R_OK) == 0) path = p;
  if (!path.empty()) {
    int rc = mbedtls_x509_crt_parse_file(&ca_, path.c_str());
    if (rc < 0) return Error{ErrorCode::TlsHandshake, "CA bundle", rc, "cannot read the CA bundle " + path + ": " + mbedtls_error_text(rc)};
  }
  if (!t.extra_ca_pem.empty()) {
    std::string pem = t.extra_ca_pem;
    int rc = mbedtls_x509_crt_parse(&ca_, reinterpret_cast<const unsigned char*>(pem.c_str()), pem.size() + 1);
    if (rc < 0) return Error{ErrorCode::TlsHandshake, "CA certificate", rc, "the connection's CA certificate does not parse: " + mbedtls_error_text(rc)};
  }
  if (ca_.raw.len == 0)
    return Error{ErrorCode::CertUntrusted, "CA bundle", 0, "no trusted CA certificates: install ca-certificates or add the server's CA"};
  return ok_status();
}

Status TlsSession::handshake(const HttpsTarget& t, const std::string& bundle_path) {
  host_ = t.host;
  ip_.clear();
  if (t.host_is_ip) parse_ip_literal(t.host, &ip_);
  Status st = load_trust(t, bundle_path);
  if (!st) return st;
  st = tls_library_ready();
  if (!st) return st;
  int rc = mbedtls_ssl_config_defaults(&conf_, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
  if (rc != 0) return Error{ErrorCode::TlsHandshake, "TLS setup", rc, mbedtls_error_text(rc)};
  // TLS 1.3 is offered and preferred (the default maximum); 1.2 is kept; nothing older.
  mbedtls_ssl_conf_min_tls_version(&conf_, MBEDTLS_SSL_VERSION_TLS1_2);
  mbedtls_ssl_conf_authmode(&conf_, MBEDTLS_SSL_VERIFY_REQUIRED);
  mbedtls_ssl_conf_ca_chain(&conf_, &ca_, nullptr);
  mbedtls_ssl_conf_rng(&conf_, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
  mbedtls_ssl_conf_verify(&conf_, on_verify, this);
  // x25519 first: the cheapest key share, and the one a single-share ClientHello should carry.
  static const uint16_t kGroups[] = {MBEDTLS_SSL_IANA_TLS_GROUP_X25519, MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
                                     MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1, MBEDTLS_SSL_IANA_TLS_GROUP_NONE};
  mbedtls_ssl_conf_groups(&conf_, kGroups);
  rc = mbedtls_ssl_setup(&ssl_, &conf_);
  // For an IP literal no name is sent (no SNI, RFC 6066) and none is checked by mbedTLS:
  // on_verify compares the address with the certificate's iPAddress SANs itself. Saying so
  // explicitly (NULL) is what 3.6 requires before it verifies without a host name.
  if (rc == 0) rc = mbedtls_ssl_set_hostname(&ssl_, ip_.empty() ? t.host.c_str() : nullptr);
  if (rc != 0) return Error{ErrorCode::TlsHandshake, "TLS setup", rc, mbedtls_error_text(rc)};
  mbedtls_ssl_set_bio(&ssl_, this, bio_send, bio_recv, nullptr);
  for (;;) {
    rc = mbedtls_ssl_handshake(&ssl_);
    if (rc == 0) break;
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
      if (!io_.wait(rc == MBEDTLS_ERR_SSL_WANT_READ)) return *io_.failure();
      continue;
    }
    if (rc == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) return verify_error(mbedtls_ssl_get_verify_result(&ssl_));
    return handshake_error(rc);
  }
  peer_.version = mbedtls_ssl_get_version(&ssl_);
  peer_.cipher = mbedtls_ssl_get_ciphersuite(&ssl_);
  return ok_status();
}

Error TlsSession::handshake_error(int rc) const {
  const int alert = rc == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE ? first_alert() : -1;
  if (rc == MBEDTLS_ERR_PK_UNKNOWN_PK_ALG || rc == MBEDTLS_ERR_PK_UNKNOWN_NAMED_CURVE)
    return Error{ErrorCode::TlsNothingInCommon, "TLS certificate", rc,
                 "the server's certificate has " + mbedtls_error_text(rc)};
  if (x509_parse_error(rc))  // mbedTLS 3.6 refuses, for example, an iPAddress name that is not 4 or 16 bytes
    return Error{ErrorCode::CertMalformed, "TLS certificate", rc,
                 "the server's certificate could not be read: " + mbedtls_error_text(rc)};
  if (rc == MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION || alert == MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION)
    return Error{ErrorCode::TlsVersion, "TLS handshake", rc, host_ + " offers only TLS older than 1.2, which is not safe to use"};
  if (rc == MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE || alert == MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE ||
      alert == MBEDTLS_SSL_ALERT_MSG_INSUFFICIENT_SECURITY)
    return Error{ErrorCode::TlsNothingInCommon, "TLS handshake", rc,
                 host_ + " and tracklight have no TLS settings in common" +
                     (alert >= 0 ? " (the server answered " + tls_alert_name(alert) + ")" : std::string())};
  if (alert >= 0)
    return Error{ErrorCode::TlsHandshake, "TLS handshake", rc,
                 "TLS handshake with " + host_ + " failed: the server refused it with " + tls_alert_name(alert)};
  return Error{ErrorCode::TlsHandshake, "TLS handshake", rc, "TLS handshake with " + host_ + " failed: " + mbedtls_error_text(rc)};
}

Error TlsSession::verify_error(uint32_t flags) const {
  const std::string names = peer_.names.empty() ? peer_.subject : [&] {
    std::string n;
    for (const auto& s : peer_.names) n += (n.empty() ? "" : ", ") + s;
    return n;
  }();
  const long code = static_cast<long>(flags);
  if (flags & MBEDTLS_X509_BADCERT_EXPIRED)
    return Error{ErrorCode::CertExpired, "TLS certificate", code, "the server's certificate expired on " + peer_.valid_to};
  if (flags & MBEDTLS_X509_BADCERT_FUTURE)
    return Error{ErrorCode::CertNotYetValid, "TLS certificate", code, "the server's certificate is not valid until " + peer_.valid_from};
  if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH)
    return Error{ErrorCode::HostnameMismatch, "TLS certificate", code, "the certificate is for " + names + ", not " + host_};
  if (flags & (MBEDTLS_X509_BADCERT_NOT_TRUSTED | MBEDTLS_X509_BADCERT_MISSING)) return untrusted_error(code);
  char buf[256];
  int n = mbedtls_x509_crt_verify_info(buf, sizeof buf, "", flags);
  std::string why = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "verification failed";
  for (auto& c : why)
    if (c == '\n') c = ';';
  return Error{ErrorCode::CertUntrusted, "TLS certificate", code, "the server's certificate was refused: " + why};
}

Error TlsSession::untrusted_error(long code) const {
  const std::string issuer = top_.issuer.empty() ? std::string("an unknown issuer") : top_.issuer;
  if (top_.depth == 0 && top_.self_issued)
    return Error{ErrorCode::CertSelfSigned, "TLS certificate", code,
                 "the server's certificate (" + peer_.subject + ") is self-signed, SHA-256 fingerprint " +
                     top_.leaf_fingerprint};
  if (top_.depth == 0)
    return Error{ErrorCode::CertChainIncomplete, "TLS certificate", code,
                 "the server's certificate chain is incomplete: the certificate is issued by " + issuer +
                     ", which the server did not send and which is not a trusted CA"};
  return Error{ErrorCode::CertUntrusted, "TLS certificate", code,
               "the certificate is issued by " + issuer + ", which is not a trusted CA"};
}

int TlsSession::on_verify(void* self, mbedtls_x509_crt* crt, int depth, uint32_t* flags) noexcept {
  try {
    return static_cast<TlsSession*>(self)->record_peer(crt, depth, flags);
  } catch (...) {
    return MBEDTLS_ERR_X509_ALLOC_FAILED;
  }
}

int TlsSession::record_peer(mbedtls_x509_crt* crt, int depth, uint32_t* flags) {
  TlsSession* s = this;
  if (s->top_.depth < 0) {  // called from the chain's top down
    s->top_.depth = depth;
    s->top_.self_issued = self_issued(*crt);
    s->top_.issuer = dn_text(&crt->issuer);
  }
  if (depth != 0) return 0;
  s->top_.leaf_fingerprint = certificate_fingerprint(std::string(reinterpret_cast<const char*>(crt->raw.p), crt->raw.len));
  s->peer_.subject = dn_text(&crt->subject);
  s->peer_.issuer = dn_text(&crt->issuer);
  s->peer_.valid_from = x509_date(crt->valid_from);
  s->peer_.valid_to = x509_date(crt->valid_to);
  bool ip_match = false;
  for (const mbedtls_x509_sequence* san = &crt->subject_alt_names; san && san->buf.p; san = san->next) {
    const int type = san->buf.tag & 0x1f;
    std::string raw(reinterpret_cast<const char*>(san->buf.p), san->buf.len);
    if (type == 2) s->peer_.names.push_back(raw);  // dNSName
    if (type == 7) {                               // iPAddress: 4 or 16 bytes, anything else is damaged
      const std::string text = format_ip(raw);
      s->peer_.names.push_back(text.empty() ? "(malformed IP address of " + std::to_string(raw.size()) + " bytes)" : text);
      ip_match = ip_match || (!s->ip_.empty() && raw == s->ip_);
    }
  }
  if (!s->ip_.empty() && !ip_match) *flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
  return 0;
}

int TlsSession::bio_send(void* self, const unsigned char* buf, size_t len) noexcept {
  auto* s = static_cast<TlsSession*>(self);
  ssize_t n = ::send(s->io_.fd(), buf, len, MSG_NOSIGNAL);
  if (n >= 0) return static_cast<int>(n);
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return MBEDTLS_ERR_SSL_WANT_WRITE;
  return errno == EPIPE || errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_SEND_FAILED;
}

int TlsSession::bio_recv(void* self, unsigned char* buf, size_t len) noexcept {
  auto* s = static_cast<TlsSession*>(self);
  ssize_t n = ::recv(s->io_.fd(), buf, len, 0);
  if (n > 0 && s->first_len_ < sizeof s->first_) {
    const size_t take = std::min(sizeof s->first_ - s->first_len_, static_cast<size_t>(n));
    std::memcpy(s->first_ + s->first_len_, buf, take);
    s->first_len_ += take;
  }
  if (n >= 0) return static_cast<int>(n);
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return MBEDTLS_ERR_SSL_WANT_READ;
  return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
}

ssize_t TlsSession::read(char* buf, size_t len) {
  for (;;) {
    // Checked on every read: a server that streams fast never makes mbedTLS say WANT_READ.
    if (!io_.time_left()) return -1;
    int rc = mbedtls_ssl_read(&ssl_, reinterpret_cast<unsigned char*>(buf), len);
    if (rc >= 0) return rc;
    if (rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) return 0;
    if ((rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) && io_.wait(rc == MBEDTLS_ERR_SSL_WANT_READ)) continue;
    return -1;
  }
}

ssize_t TlsSession::write(const char* buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    if (!io_.time_left()) return -1;
    int rc = mbedtls_ssl_write(&ssl_, reinterpret_cast<const unsigned char*>(buf) + done, len - done);
    if (rc > 0) {
      done += static_cast<size_t>(rc);
      continue;
    }
    if ((rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) && io_.wait(rc == MBEDTLS_ERR_SSL_WANT_READ)) continue;
    return -1;
  }
  return static_cast<ssize_t>(done);
}

class TlsStream : public httplib::Stream {
 public:
  explicit TlsStream(TlsSession& s) : s_(s) {}
  bool is_readable() const override { return s_.readable_now(); }
  bool wait_readable() const override { return s_.readable_now() || s_.io().wait(true); }
  bool wait_writable() const override { return s_.io().wait(false); }
  time_t duration() const override { return 0; }  // our deadline spans the phases (DeadlineSocket)
  ssize_t read(char* ptr, size_t size) override { return s_.read(ptr, size); }
  ssize_t write(const char* ptr, size_t size) override { return s_.write(ptr, size); }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    httplib::detail::get_remote_ip_and_port(s_.io().fd(), ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    httplib::detail::get_local_ip_and_port(s_.io().fd(), ip, port);
  }
  socket_t socket() const override { return s_.io().fd(); }

 private:
  TlsSession& s_;
};

// One connection to the target (through the proxy's tunnel when there is one), verified, and
// the HTTP exchanges on it (platform/internal/http_exchange.hpp). When the server ends a kept
// connection, the next request opens and verifies a new one the same way.
class MbedClient {
 public:
  MbedClient(const HttpsTarget& t, Clock& clock, std::string bundle) : target_(t), clock_(clock), bundle_(std::move(bundle)) {}
  ~MbedClient() { disconnect(true); }

  Status connect() {
    Status st = open_verified();
    if (!st) disconnect(false);  // nothing half-open stays for the next request
    return st;
  }

  TlsSession* session() { return session_.get(); }

  // One request and its answer, on the kept connection while the server keeps it. A kept
  // connection that has something to read before a request (the server closed it: its
  // keep-alive timeout; or stray bytes) is replaced first. When the server closes it just as a
  // GET goes out, the GET is sent once more on a new one; a POST never is (it may be a
  // single-use code or a rotating refresh token).
  Result<HttpsResponse> request(OutgoingRequest req) {
    req.host_header = authority(false);
    if (fd_ >= 0 && (!reusable_ || (answered_ > 0 && readable_while_idle()))) disconnect(false);
    const bool kept = fd_ >= 0 && answered_ > 0;
    bool unanswered = false;
    Result<HttpsResponse> res = exchange(req, unanswered);
    if (!res && unanswered && kept && req.method == "GET") {
      disconnect(false);
      res = exchange(req, unanswered);
    }
    if (res) ++answered_;
    return res;
  }

 private:
  Status open_verified() {
    const bool via_proxy = !target_.proxy_host.empty();
    auto fd = connect_tcp(via_proxy ? target_.proxy_host : target_.host, via_proxy ? target_.proxy_port : target_.port,
                          target_.deadline_ms, clock_, target_.cancel);
    if (!fd) {
      Error e = fd.error();
      if (via_proxy) e.detail = "proxy " + target_.proxy_host + ": " + e.detail;
      return e;
    }
    fd_ = *fd;
    if (target_.plain_http) {
      plain_ = std::make_unique<DeadlineSocket>(*fd, clock_, target_.deadline_ms, target_.cancel, "request",
                                                "waiting for " + target_.host);
      return ok_status();
    }
    if (via_proxy) {
      Status st = tunnel();
      if (!st) return st;
    }
    session_ = std::make_unique<TlsSession>(*fd, clock_, target_.deadline_ms, target_.cancel, target_.host);
    return session_->handshake(target_, bundle_);
  }

  Result<HttpsResponse> exchange(const OutgoingRequest& req, bool& unanswered) {
    if (fd_ < 0) {
      Status st = connect();
      if (!st) return st.error();
    }
    ResponseGuard guard(req.method + " " + req.target.substr(0, req.target.find('?')), target_.host,
                        limits_for_body(target_.max_response_bytes));
    Result<HttpsResponse> res = Error{ErrorCode::BadResponse, "", 0, ""};
    DeadlineSocket* sock = plain_ ? plain_.get() : &session_->io();
    if (plain_) {
      PlainStream plain(*plain_);
      GuardedStream strm(plain, guard, sock);
      res = http_exchange(strm, req, target_.max_response_bytes, target_.host, reusable_, &unanswered);
    } else {
      TlsStream tls(*session_);
      GuardedStream strm(tls, guard, sock);
      res = http_exchange(strm, req, target_.max_response_bytes, target_.host, reusable_, &unanswered);
    }
    if (!res && res.error().code == ErrorCode::BadResponse) {
      // A transport failure: say what really happened (a cap, the deadline).
      if (guard.failed()) res = guard.error();
      else if (const Error* e = sock->failure()) res = *e;
    }
    if (!res) reusable_ = false;
    return res;
  }

  Status tunnel();
  bool readable_while_idle() {
    if (session_ && session_->readable_now()) return true;
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
  }
  // host:port as a request names it (an IPv6 address in brackets); the port may be left out
  // when it is the scheme's own.
  std::string authority(bool port_always) const {
    const std::string h = target_.host.find(':') != std::string::npos ? "[" + target_.host + "]" : target_.host;
    const bool default_port = target_.port == (target_.plain_http ? 80 : 443);
    return default_port && !port_always ? h : h + ":" + std::to_string(target_.port);
  }
  void disconnect(bool graceful) {
    if (session_ && graceful && reusable_) session_->close_notify();
    session_.reset();
    plain_.reset();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    reusable_ = true;
    answered_ = 0;
  }

  HttpsTarget target_;
  Clock& clock_;
  std::string bundle_;
  int fd_ = -1;
  bool reusable_ = true;
  int answered_ = 0;  // answers on this connection so far
  std::unique_ptr<TlsSession> session_;
  std::unique_ptr<DeadlineSocket> plain_;  // target_.plain_http: the socket without TLS
};

Status MbedClient::tunnel() {
  const std::string where = authority(true);
  DeadlineSocket sock(fd_, clock_, target_.deadline_ms, target_.cancel, "proxy", "");
  PlainStream plain(sock);
  ResponseGuard guard("CONNECT " + where, "the proxy " + target_.proxy_host, ResponseLimits{});
  GuardedStream strm(plain, guard, &sock);
  OutgoingRequest req;
  req.method = "CONNECT";
  req.target = req.host_header = where;
  if (!target_.proxy_username.empty())
    req.headers.emplace_back("Proxy-Authorization", basic_auth_value(target_.proxy_username, target_.proxy_password));
  bool reusable = false;
  auto res = http_exchange(strm, req, 64 * 1024, "the proxy " + target_.proxy_host, reusable);
  if (!res) {
    if (guard.failed()) return Error{ErrorCode::ProxyFailed, "proxy", 0, guard.error().detail};
    if (sock.failure()) return *sock.failure();
    return Error{ErrorCode::ProxyFailed, "proxy", 0,
                 "the proxy " + target_.proxy_host + " did not answer the CONNECT request (" + res.error().detail + ")"};
  }
  // 407 is the standard answer; tinyproxy answers wrong credentials with 401.
  if (res->status == 407 || res->status == 401)
    return Error{ErrorCode::ProxyAuthRequired, "proxy", res->status,
                 target_.proxy_username.empty() ? "the proxy requires a user name and password"
                                                : "the proxy refused the proxy user name or password"};
  if (res->status != 200)
    return Error{ErrorCode::ProxyFailed, "proxy", res->status,
                 "the proxy answered " + std::to_string(res->status) + " to CONNECT " + where};
  return ok_status();
}

class MbedConnection : public HttpsConnection {
 public:
  MbedConnection(std::unique_ptr<MbedClient> client) : client_(std::move(client)) {
    if (client_->session()) peer_ = client_->session()->peer();
    else peer_.version = "plain HTTP";
  }

  Result<HttpsResponse> get(const std::string& path, const HeaderList& headers) override {
    return client_->request({"GET", path, "", headers, "", ""});
  }
  Result<HttpsResponse> post(const std::string& path, const HeaderList& headers, const std::string& body,
                             const std::string& content_type) override {
    return client_->request({"POST", path, "", headers, body, content_type});
  }
  const TlsPeer& peer() const override { return peer_; }

 private:
  std::unique_ptr<MbedClient> client_;
  TlsPeer peer_;
};

}  // namespace

MbedtlsConnector::MbedtlsConnector(Clock& clock, std::string ca_bundle_path)
    : clock_(clock), ca_bundle_path_(std::move(ca_bundle_path)) {}

Result<std::unique_ptr<HttpsConnection>> MbedtlsConnector::open(const HttpsTarget& target) {
  auto client = std::make_unique<MbedClient>(target, clock_, ca_bundle_path_);
  Status st = client->connect();
  if (!st) return st.error();
  return std::unique_ptr<HttpsConnection>(std::make_unique<MbedConnection>(std::move(client)));
}

}  // namespace tracklight::platform
