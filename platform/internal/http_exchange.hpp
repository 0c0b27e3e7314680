// Internal to platform/ (and its fuzzer): one HTTP/1.1 request and its answer over any stream
// (the TLS or plain connection, guarded), with the body capped while it streams in, so a hostile
// Content-Length or an endless chunked body costs at most `max_bytes` of memory; and the streams
// that cap the status line and headers and name the phase that ran out of time.
//
// Why not cpp-httplib's client: its response reading compiles a std::regex for the status line,
// which brings about 50 kB of libstdc++'s regex engine into the binary (SPEC section 8: the
// binary budget), and it read header lines without a cap (ResponseGuard exists for that). The
// reading here keeps cpp-httplib's pattern, which ResponseGuard follows: status, header and chunk
// size lines a byte per read, body data in blocks.
#pragma once
#define _GLIBCXX_IOSTREAM 1  // cpp-httplib never uses the standard streams (see httplib_server.cpp)
#include <httplib.h>

#include <string>
#include "platform/internal/deadline_socket.hpp"
#include "platform/https_client.hpp"
#include "platform/internal/response_guard.hpp"

namespace tracklight::platform {

// What to send. `target` is the path with its query (or host:port for CONNECT); `host_header`
// the Host value. Content-Length and Content-Type go with a body; User-Agent is set.
struct OutgoingRequest {
  std::string method = "GET", target, host_header;
  HeaderList headers;
  std::string body, content_type;
};

// Sends `req` on `strm` and reads the answer. Transport and framing failures come back as
// BadResponse naming `host` (the caller may know better: the guard, the socket's deadline); a
// body over `max_bytes` as ResponseTooLarge. `reusable` says whether the connection may carry
// another request (HTTP/1.1, not "Connection: close", the body's end known). A 2xx answer to
// CONNECT's answer is read without its body: after a 2xx the tunnel starts, and any other ends
// the connection. `unanswered`: the connection ended (closed or reset by the peer) before the
// first byte of an answer: a kept connection the server closed meanwhile.
Result<HttpsResponse> http_exchange(httplib::Stream& strm, const OutgoingRequest& req, size_t max_bytes,
                                    const std::string& host, bool& reusable, bool* unanswered = nullptr);

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
