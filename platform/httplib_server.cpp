// The only translation unit that owns cpp-httplib's server. cpp-httplib parses and dispatches;
// it never reads a socket here. The intake (http_intake.hpp) buffers each request until it is
// complete and decides where it ends; a worker from the library's thread pool then lets
// cpp-httplib parse exactly those bytes from memory and write the answer to the socket.
// What cpp-httplib 0.41 itself still lacks, and why the intake stays (tests/integration/
// httplib_gaps_test.cpp shows each): its workers read the socket from the first byte with a
// timeout that restarts on every read, so as many slow clients as workers stop the server; and
// it reads a transfer coding it does not know as a body lasting to the end of the connection.
// Its header count and size limits, 414, CL+TE refusal and bare-LF refusal agree with ours.
#include "platform/http_server.hpp"

// cpp-httplib includes <iostream> but never uses the standard streams. With libstdc++ that
// include alone runs the streams' static initialiser at start-up, which touches ~400 kB of
// shared library pages (measured: idle RSS 4.2 MB -> see tools/bench). Pretending the header was
// already included skips it; any use of std::cout & co. here would then fail to compile.
#define _GLIBCXX_IOSTREAM 1
#include <httplib.h>
#include <poll.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "platform/internal/http_intake.hpp"

namespace tracklight::platform {
namespace {

// Set by the post-routing hook for the answer a worker is writing: that answer ends the connection.
thread_local bool t_close_after_answer = false;
// Whether the request a worker is serving arrived over TLS.
thread_local bool t_secure = false;

// One request from memory (the intake holds all of its bytes; the end of them is the end of the
// stream), its answer to the socket. A copy reads on from the same place without moving the
// original.
class RequestStream : public httplib::Stream {
 public:
  RequestStream(Connection& c, int write_timeout_ms) : c_(c), write_timeout_ms_(write_timeout_ms) {}
  bool write_failed() const { return write_failed_; }

  // The request's bytes are all in memory: reading never waits.
  bool is_readable() const override { return off_ < c_.request_bytes; }
  bool wait_readable() const override { return is_readable(); }
  bool wait_writable() const override { return wait_for(POLLOUT); }
  ssize_t read(char* ptr, size_t size) override {
    size_t n = std::min(size, c_.request_bytes - off_);
    std::memcpy(ptr, c_.in.data() + off_, n);
    off_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    if (write_failed_) return -1;
    if (c_.tls) return tls_write(ptr, size);
    if (!wait_writable()) return fail();
    ssize_t n = ::send(c_.fd, ptr, size, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
    return n < 0 ? fail() : n;
  }
  time_t duration() const override { return 0; }  // the intake keeps the request's deadlines
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = c_.client;
    port = c_.client_port;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    httplib::detail::get_local_ip_and_port(c_.fd, ip, port);
  }
  socket_t socket() const override { return c_.fd; }

 private:
  ssize_t fail() {
    write_failed_ = true;
    return -1;
  }
  bool wait_for(short events) const {
    pollfd p{c_.fd, events, 0};
    int rc;
    while ((rc = ::poll(&p, 1, write_timeout_ms_)) < 0 && errno == EINTR) {
    }
    return rc > 0 && (p.revents & events);
  }
  // mbedTLS may need to read (a TLS 1.3 key update) before it can write on.
  ssize_t tls_write(const char* ptr, size_t size) {
    for (;;) {
      ssize_t n = c_.tls->write(ptr, size);
      if (n > 0) return n;
      if (n == TlsServerSession::WantWrite && wait_for(POLLOUT)) continue;
      if (n == TlsServerSession::WantRead && wait_for(POLLIN)) continue;
      return fail();
    }
  }
  Connection& c_;
  int write_timeout_ms_;
  size_t off_ = 0;
  bool write_failed_ = false;
};

// The request a worker is serving, so the pre-routing hook can read its body (from a copy: the
// library still drains the original after the answer).
thread_local const RequestStream* t_stream = nullptr;

class GuardedServer : public httplib::Server {
 public:
  GuardedServer(const HttpServerOptions& o, RefusalLog& refusals) : o_(o), refusals_(refusals) {}

  void serve_forever() {
    struct Settled {  // wait_until_serving() returns however this ends
      GuardedServer& s;
      ~Settled() { s.settle(); }
    } settled{*this};
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (halted_) return;
    }
    // A fixed pool over a queue of complete requests, bounded by the intake's connection limit.
    // Its destructor does not join its threads: shutdown() runs on every way out.
    httplib::ThreadPool workers(o_.workers);
    struct Joined {
      httplib::ThreadPool& pool;
      ~Joined() { pool.shutdown(); }
    } joined{workers};
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (halted_) return;
      intake_ = std::make_unique<Intake>(svr_sock_, intake_options(), refusals_, [this, &workers](Connection& c) {
        if (!workers.enqueue([this, &c] { serve(c); })) intake_->give_back(c, false);
      });
    }
    settle();
    intake_->run();
    // The pool runs what is queued before it stops: after a stop those requests are dropped
    // unanswered (serve() sees stopping_), so nothing changes while the agent shuts down.
    workers.shutdown();
    std::lock_guard<std::mutex> lock(mu_);
    intake_.reset();  // closes every connection
    socket_t sock = svr_sock_.exchange(INVALID_SOCKET);
    if (sock != INVALID_SOCKET) httplib::detail::close_socket(sock);
  }

  void replace_tls(std::shared_ptr<TlsServerConfig> tls) {
    std::lock_guard<std::mutex> lock(mu_);
    tls_ = tls;
    if (intake_) intake_->replace_tls(std::move(tls));
  }

  void wait_until_serving() {
    std::unique_lock<std::mutex> lock(mu_);
    settled_cv_.wait(lock, [this] { return settled_; });
  }

  void halt() {
    stopping_ = true;
    std::lock_guard<std::mutex> lock(mu_);
    halted_ = true;
    if (intake_) intake_->stop();
  }

 private:
  IntakeOptions intake_options() const {
    IntakeOptions i;
    i.framing.max_header_bytes = o_.max_header_bytes;
    i.framing.max_body = o_.max_body_bytes;
    i.max_connections = o_.max_connections;
    i.max_per_client = o_.max_connections_per_client;
    i.header_deadline_ms = o_.header_deadline_s * 1000;
    i.request_deadline_ms = o_.request_deadline_s * 1000;
    i.keepalive_ms = o_.keepalive_timeout_s * 1000;
    i.error_headers = o_.error_headers;
    i.tls = tls_;
    return i;
  }

  void serve(Connection& c) {
    if (stopping_) return intake_->give_back(c, false);
    RequestStream strm(c, o_.write_timeout_s * 1000);
    t_stream = &strm;
    t_secure = c.tls != nullptr;
    t_close_after_answer = false;
    bool last = ++c.served >= o_.keepalive_max_requests;
    bool closed = false;
    // The intake has already answered "Expect: 100-continue" (and read the body): the library
    // must not send a second interim answer. The local address is not passed: nothing reads it,
    // and looking it up would cost a system call per request.
    // No handler takes a WebSocket upgrade: without the header the library routes such a request
    // like any other, inside its exception guard.
    bool ok = process_request(strm, c.client, c.client_port, "", 0, last, closed, [](httplib::Request& r) {
      r.headers.erase("Expect");
      r.headers.erase("Upgrade");
    });
    t_stream = nullptr;
    c.in.erase(0, c.request_bytes);
    c.request_bytes = 0;
    intake_->give_back(c, ok && !closed && !last && !t_close_after_answer && !strm.write_failed());
  }

  HttpServerOptions o_;
  RefusalLog& refusals_;

 public:
  std::shared_ptr<TlsServerConfig> tls_;  // set by bind() for an HTTPS listener

 private:
  void settle() {
    std::lock_guard<std::mutex> lock(mu_);
    settled_ = true;
    settled_cv_.notify_all();
  }

  std::mutex mu_;
  bool halted_ = false;
  bool settled_ = false;  // serving, or serve_forever() has ended
  std::condition_variable settled_cv_;
  std::atomic<bool> stopping_{false};
  std::unique_ptr<Intake> intake_;
};

HttpRequest to_request(const httplib::Request& r) {
  HttpRequest out;
  out.method = r.method;
  out.path = r.path;
  out.remote_addr = r.remote_addr;
  out.secure = t_secure;
  out.target = r.target;
  for (const auto& p : r.params) out.query.emplace_back(p.first, p.second);
  for (const auto& h : r.headers) {
    // cpp-httplib adds these itself; they did not come from the client.
    if (h.first == "REMOTE_ADDR" || h.first == "REMOTE_PORT" || h.first == "LOCAL_ADDR" ||
        h.first == "LOCAL_PORT")
      continue;
    out.headers.emplace_back(h.first, h.second);
  }
  return out;
}

const char* code_for_status(int status) {
  switch (status) {
    case 400: return "bad_request";
    case 404: return "not_found";
    case 413: return "body_too_large";
    case 414: return "uri_too_long";
    case 415: return "unsupported_media_type";
    case 416: return "range_not_satisfiable";
    case 431: return "headers_too_large";
    default: return status >= 500 ? "internal_error" : "bad_request";
  }
}

// One request to the application: its body read by the library's own reader from a copy of the
// request (Content-Length or chunked, an unknown Content-Encoding refused with 415, the size
// limit), then the router's answer.
httplib::Server::HandlerResponse route(const HttpHandler& handler, size_t max_body, RefusalLog& refusals,
                                     const httplib::Request& req, httplib::Response& res) {
  if (!t_stream) throw std::logic_error("no request stream");
  HttpRequest in = to_request(req);
  if (httplib::detail::expect_content(req)) {
    RequestStream body = *t_stream;
    httplib::Request framing;  // the reader records chunked trailers in it
    framing.headers = req.headers;
    bool ok = httplib::detail::read_content(
        body, framing, max_body, res.status, nullptr,
        [&in](const char* buf, size_t n, size_t, size_t) {
          in.body.append(buf, n);
          return true;
        },
        true);
    if (!ok) {
      if (res.status < 400) res.status = 400;
      return httplib::Server::HandlerResponse::Handled;
    }
  }
  HttpResponse out = handler(in);
  if (!out.refused_by.empty()) refusals.refused(out.refused_by, req.remote_addr, req.method + " " + req.path);
  res.status = out.status;
  for (auto& h : out.headers) res.set_header(h.first.c_str(), h.second);
  if (!out.body.empty() || !out.content_type.empty())
    res.set_content(std::move(out.body), out.content_type.c_str());
  return httplib::Server::HandlerResponse::Handled;
}

void internal_error(Logger& log, const httplib::Request& req, httplib::Response& res) {
  log.error("http", "internal error while handling " + req.method + " " + req.path);
  res.status = 500;
  res.set_content("{\"error\":{\"code\":\"internal_error\",\"message\":\"internal error; see the agent log\"}}",
                  "application/json");
}

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions opts;
  HttpHandler handler;
  Logger& log;
  PosixClock clock;
  RefusalLog refusals{log, clock};
  GuardedServer server;
  Impl(HttpServerOptions o, HttpHandler h, Logger& l)
      : opts(std::move(o)), handler(std::move(h)), log(l), server(opts, refusals) {}
};

HttpServer::HttpServer(HttpServerOptions opts, HttpHandler handler, Logger& log)
    : impl_(std::make_unique<Impl>(std::move(opts), std::move(handler), log)) {
  auto& s = impl_->server;
  const auto& o = impl_->opts;
  s.set_payload_max_length(o.max_body_bytes);
  s.set_keep_alive_timeout(o.keepalive_timeout_s);
  s.set_keep_alive_max_count(o.keepalive_max_requests);
  Impl* impl = impl_.get();
  // Every request goes to the application's router from the pre-routing hook, with the body read
  // by the library's own reader (Content-Length or chunked, an unknown Content-Encoding refused
  // with 415, the size limit). Why not Get(".*") and friends: each of those routes compiles a
  // std::regex, which initialises all of libstdc++'s locale facets at start-up (measured: 256 kB
  // more of shared-library pages resident while idle) and runs a regex match on every request.
  s.set_pre_routing_handler([impl](const httplib::Request& req, httplib::Response& res) {
    // The library calls this hook on some paths outside its own exception guard: guard it here.
    try {
      return route(impl->handler, impl->opts.max_body_bytes, impl->refusals, req, res);
    } catch (...) {
      internal_error(impl->log, req, res);
      return httplib::Server::HandlerResponse::Handled;
    }
  });
  // Errors cpp-httplib answers itself (malformed request, body or URI too large) get the same
  // JSON shape as the application's.
  s.set_error_handler(httplib::Server::HandlerWithResponse([impl](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    for (const auto& h : impl->opts.error_headers) res.set_header(h.first.c_str(), h.second);
    res.set_header("Cache-Control", "no-store");
    res.set_content(std::string("{\"error\":{\"code\":\"") + code_for_status(res.status) +
                        "\",\"message\":\"the request was refused: " + httplib::status_message(res.status) + "\"}}",
                    "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));
  // cpp-httplib announces "Connection: close" on every answer from 400 up (an error leaves the
  // rest of the connection untrusted); the intake must then really close it.
  s.set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.get_header_value("Connection") == "close") t_close_after_answer = true;
  });
  s.set_exception_handler([impl](const httplib::Request& req, httplib::Response& res, std::exception_ptr) {
    internal_error(impl->log, req, res);
  });
}

HttpServer::~HttpServer() = default;

Result<int> HttpServer::bind() {
  auto& o = impl_->opts;
  if (!o.tls_cert_pem.empty() || !o.tls_key_pem.empty()) {
    auto tls = TlsServerConfig::make(o.tls_cert_pem, o.tls_key_pem);
    if (!tls) return tls.error();
    impl_->server.tls_ = *tls;
  }
  int port = o.port;
  if (port == 0) {
    port = impl_->server.bind_to_any_port(o.host);
    if (port < 0) port = 0;
  } else if (!impl_->server.bind_to_port(o.host, port)) {
    port = 0;
  }
  if (port <= 0)
    return Error{ErrorCode::IoError, "listen " + o.host + ":" + std::to_string(o.port), 0,
                 "cannot listen there (address in use, not local, or needs privileges)"};
  return port;
}

void HttpServer::run() { impl_->server.serve_forever(); }
void HttpServer::stop() { impl_->server.halt(); }
void HttpServer::wait_until_serving() { impl_->server.wait_until_serving(); }

Status HttpServer::replace_certificate(const std::string& cert_pem, const std::string& key_pem) {
  if (impl_->opts.tls_cert_pem.empty())
    return Error{ErrorCode::BadInput, "listen " + impl_->opts.host, 0, "not an HTTPS listener"};
  auto tls = TlsServerConfig::make(cert_pem, key_pem);
  if (!tls) return tls.error();
  impl_->server.replace_tls(*tls);
  return ok_status();
}

}  // namespace tracklight::platform
