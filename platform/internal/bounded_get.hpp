// Internal to platform/ (and its fuzzer): one GET through any cpp-httplib client, with the body
// capped while it streams in, so a hostile Content-Length or an endless chunked body costs at
// most `max_bytes` of memory; and the streams that cap the status line and headers (which
// cpp-httplib reads without a limit) and name the phase that ran out of time.
#pragma once
#define _GLIBCXX_IOSTREAM 1  // cpp-httplib never uses the standard streams (see httplib_server.cpp)
#include <httplib.h>

#include <string>
#include "platform/internal/deadline_socket.hpp"
#include "platform/https_client.hpp"
#include "platform/internal/response_guard.hpp"

namespace tracklight::platform {

// Transport failures come back as BadResponse naming `host`; the caller may know better.
// `content_type` empty: a GET; else a POST of `body`.
Result<HttpsResponse> bounded_get(httplib::ClientImpl& client, const std::string& path, const HeaderList& headers,
                                  size_t max_bytes, const std::string& host, const std::string& body = "",
                                  const std::string& content_type = "");

// Any cpp-httplib stream, with what it reads checked by `guard` (a cap passed fails the read)
// and the phase in progress told to `sock` (may be null) for its timeout message.
class GuardedStream : public httplib::Stream {
 public:
  GuardedStream(httplib::Stream& inner, ResponseGuard& guard, DeadlineSocket* sock)
      : inner_(inner), guard_(guard), sock_(sock) {}
  bool is_readable() const override { return inner_.is_readable(); }
  bool wait_readable() const override { return inner_.wait_readable(); }
  bool wait_writable() const override { return inner_.wait_writable(); }
  time_t duration() const override { return inner_.duration(); }
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override { inner_.get_remote_ip_and_port(ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { inner_.get_local_ip_and_port(ip, port); }
  socket_t socket() const override { return inner_.socket(); }

 private:
  void show_phase();

  httplib::Stream& inner_;
  ResponseGuard& guard_;
  DeadlineSocket* sock_;
  ResponseGuard::Phase shown_ = ResponseGuard::Phase::Body;
  bool shown_once_ = false;
};

// A plain TCP stream whose every read and write ends at the socket's deadline (cpp-httplib's
// SocketStream restarts its timeout on every read, so a dripping peer could hold it forever).
class PlainStream : public httplib::Stream {
 public:
  explicit PlainStream(DeadlineSocket& sock) : sock_(sock) {}
  bool is_readable() const override { return false; }  // nothing is buffered above the socket
  bool wait_readable() const override { return sock_.wait(true); }
  bool wait_writable() const override { return sock_.wait(false); }
  time_t duration() const override { return 0; }  // the DeadlineSocket keeps the deadline
  ssize_t read(char* ptr, size_t size) override { return sock_.read(ptr, size); }
  ssize_t write(const char* ptr, size_t size) override { return sock_.write(ptr, size); }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    httplib::detail::get_remote_ip_and_port(sock_.fd(), ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    httplib::detail::get_local_ip_and_port(sock_.fd(), ip, port);
  }
  socket_t socket() const override { return sock_.fd(); }

 private:
  DeadlineSocket& sock_;
};

}  // namespace tracklight::platform
