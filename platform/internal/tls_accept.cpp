#include "platform/internal/tls_accept.hpp"

#include <sys/socket.h>

#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
extern "C" {
#include <mbedtls/psa_util.h>  // declared without C++ guards
}

#include <cerrno>

#include "platform/internal/mbedtls_errors.hpp"
#include "platform/internal/mbedtls_init.hpp"

namespace tracklight::platform {

struct TlsServerConfig::State {
  mbedtls_ssl_config conf;
  mbedtls_x509_crt chain;
  mbedtls_pk_context key;
  State() {
    mbedtls_ssl_config_init(&conf);
    mbedtls_x509_crt_init(&chain);
    mbedtls_pk_init(&key);
  }
  ~State() {
    mbedtls_ssl_config_free(&conf);
    mbedtls_x509_crt_free(&chain);
    mbedtls_pk_free(&key);
  }
};

TlsServerConfig::TlsServerConfig() : s_(std::make_unique<State>()) {}
TlsServerConfig::~TlsServerConfig() = default;

Result<std::shared_ptr<TlsServerConfig>> TlsServerConfig::make(const std::string& cert_pem, const std::string& key_pem) {
  Status st = tls_library_ready();
  if (!st) return st.error();
  std::shared_ptr<TlsServerConfig> c(new TlsServerConfig());
  State& s = *c->s_;
  auto fail = [](const char* what, int rc) {
    return Error{ErrorCode::TlsHandshake, "HTTPS listener", rc, std::string(what) + ": " + mbedtls_error_text(rc)};
  };
  int rc = mbedtls_x509_crt_parse(&s.chain, reinterpret_cast<const unsigned char*>(cert_pem.c_str()), cert_pem.size() + 1);
  if (rc != 0) return fail("the certificate does not parse", rc);
  rc = mbedtls_pk_parse_key(&s.key, reinterpret_cast<const unsigned char*>(key_pem.c_str()), key_pem.size() + 1,
                            nullptr, 0, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
  if (rc != 0) return fail("the private key does not parse", rc);
  // mbedTLS would take a key of another certificate and fail every handshake later.
  rc = mbedtls_pk_check_pair(&s.chain.pk, &s.key, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
  if (rc != 0) return fail("the private key does not belong to the certificate", rc);
  rc = mbedtls_ssl_config_defaults(&s.conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                   MBEDTLS_SSL_PRESET_DEFAULT);
  if (rc != 0) return fail("TLS setup", rc);
  mbedtls_ssl_conf_min_tls_version(&s.conf, MBEDTLS_SSL_VERSION_TLS1_2);
  mbedtls_ssl_conf_rng(&s.conf, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
  static const uint16_t kGroups[] = {MBEDTLS_SSL_IANA_TLS_GROUP_X25519, MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
                                     MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1, MBEDTLS_SSL_IANA_TLS_GROUP_NONE};
  mbedtls_ssl_conf_groups(&s.conf, kGroups);
  rc = mbedtls_ssl_conf_own_cert(&s.conf, &s.chain, &s.key);
  if (rc != 0) return fail("the certificate cannot be used", rc);
  return c;
}

struct TlsServerSession::Ssl {
  mbedtls_ssl_context ctx;
  Ssl() { mbedtls_ssl_init(&ctx); }
  ~Ssl() { mbedtls_ssl_free(&ctx); }
};

namespace {

int bio_send(void* fd, const unsigned char* buf, size_t len) noexcept {  // called from C: never throws
  ssize_t n = ::send(*static_cast<int*>(fd), buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n >= 0) return static_cast<int>(n);
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return MBEDTLS_ERR_SSL_WANT_WRITE;
  return MBEDTLS_ERR_NET_SEND_FAILED;
}

int bio_recv(void* fd, unsigned char* buf, size_t len) noexcept {
  ssize_t n = ::recv(*static_cast<int*>(fd), buf, len, MSG_DONTWAIT);
  if (n >= 0) return static_cast<int>(n);
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return MBEDTLS_ERR_SSL_WANT_READ;
  return MBEDTLS_ERR_NET_RECV_FAILED;
}

ssize_t io_result(int rc) {
  if (rc == MBEDTLS_ERR_SSL_WANT_READ) return TlsServerSession::WantRead;
  if (rc == MBEDTLS_ERR_SSL_WANT_WRITE) return TlsServerSession::WantWrite;
  if (rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || rc == MBEDTLS_ERR_SSL_CONN_EOF) return TlsServerSession::Closed;
  return TlsServerSession::Failed;
}

}  // namespace

TlsServerSession::TlsServerSession(std::shared_ptr<TlsServerConfig> config, int fd)
    : config_(std::move(config)), ssl_(std::make_unique<Ssl>()), fd_(fd) {
  int rc = mbedtls_ssl_setup(&ssl_->ctx, &config_->state().conf);
  if (rc != 0) {
    why_ = mbedtls_error_text(rc);
    return;
  }
  mbedtls_ssl_set_bio(&ssl_->ctx, &fd_, bio_send, bio_recv, nullptr);
  ok_ = true;
}

TlsServerSession::~TlsServerSession() = default;

ssize_t TlsServerSession::handshake() {
  int rc = mbedtls_ssl_handshake(&ssl_->ctx);
  if (rc == 0) {
    established_ = true;
    return 1;
  }
  ssize_t r = io_result(rc);
  if (r == Failed || r == Closed) {
    why_ = mbedtls_error_text(rc);
    return Failed;
  }
  return r;
}

ssize_t TlsServerSession::read(char* buf, size_t len) {
  int rc = mbedtls_ssl_read(&ssl_->ctx, reinterpret_cast<unsigned char*>(buf), len);
  if (rc > 0) return rc;
  if (rc == 0) return Closed;
  return io_result(rc);
}

ssize_t TlsServerSession::write(const char* buf, size_t len) {
  int rc = mbedtls_ssl_write(&ssl_->ctx, reinterpret_cast<const unsigned char*>(buf), len);
  if (rc >= 0) return rc;
  ssize_t r = io_result(rc);
  return r == Closed ? Failed : r;
}

size_t TlsServerSession::buffered() const { return mbedtls_ssl_get_bytes_avail(&ssl_->ctx); }

void TlsServerSession::close_notify() {
  if (established_) (void)mbedtls_ssl_close_notify(&ssl_->ctx);
}

}  // namespace tracklight::platform
