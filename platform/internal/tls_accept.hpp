// Internal to platform/: the server side of TLS for the page (--listen-tls), on mbedTLS, over the
// intake's non-blocking sockets. One TlsServerConfig per listener (certificate, key, TLS 1.3 and
// 1.2); one TlsServerSession per connection. A session is used by one thread at a time: the
// intake while it reads a request, the worker while it answers.
#pragma once
#include <sys/types.h>

#include <memory>
#include <string>

#include "platform/result.hpp"

namespace tracklight::platform {

class TlsServerConfig {
 public:
  static Result<std::shared_ptr<TlsServerConfig>> make(const std::string& cert_pem, const std::string& key_pem);
  ~TlsServerConfig();
  struct State;
  State& state() { return *s_; }

 private:
  TlsServerConfig();
  std::unique_ptr<State> s_;
};

class TlsServerSession {
 public:
  enum Io : ssize_t { Closed = 0, Failed = -1, WantRead = -2, WantWrite = -3 };
  TlsServerSession(std::shared_ptr<TlsServerConfig> config, int fd);
  ~TlsServerSession();
  TlsServerSession(const TlsServerSession&) = delete;
  TlsServerSession& operator=(const TlsServerSession&) = delete;

  bool ok() const { return ok_; }  // false: the session could not be set up
  bool established() const { return established_; }
  // Advances the handshake: 1 done, WantRead/WantWrite, or Failed (why() says what happened).
  ssize_t handshake();
  ssize_t read(char* buf, size_t len);         // bytes, Closed, Failed or Want*
  ssize_t write(const char* buf, size_t len);  // bytes, Failed or Want*
  size_t buffered() const;                     // decrypted bytes waiting inside mbedTLS
  void close_notify();
  const std::string& why() const { return why_; }

 private:
  struct Ssl;
  std::shared_ptr<TlsServerConfig> config_;  // outlives the session even after a certificate change
  std::unique_ptr<Ssl> ssl_;
  int fd_;
  bool ok_ = false;
  bool established_ = false;
  std::string why_;
};

}  // namespace tracklight::platform
