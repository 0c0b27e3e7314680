// The only translation unit that owns cpp-httplib's server. It adds what 0.11.4 lacks: a
// per-request byte and time budget (slowloris), a bounded worker queue (accepting stops while it
// is full), and an idle keep-alive wait that sleeps in poll() instead of spinning.
#include "platform/http_server.hpp"

// cpp-httplib includes <iostream> but never uses the standard streams. With libstdc++ that
// include alone runs the streams' static initialiser at start-up, which touches ~400 kB of
// shared library pages (measured: idle RSS 4.2 MB -> see tools/bench). Pretending the header was
// already included skips it; any use of std::cout & co. here would then fail to compile.
#define _GLIBCXX_IOSTREAM 1
#include <httplib.h>
#include <poll.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <strings.h>
#include <thread>

namespace tracklight::platform {
namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t ms_until(SteadyClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t - SteadyClock::now()).count();
}

bool poll_one(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  for (;;) {
    int rc = ::poll(&p, 1, timeout_ms);
    if (rc < 0 && errno == EINTR) continue;
    return rc > 0 && (p.revents & (events | POLLHUP | POLLERR));
  }
}

// A socket stream whose reads stop at a deadline and after a byte budget per request.
class BudgetStream : public httplib::Stream {
 public:
  BudgetStream(int sock, int read_timeout_ms) : sock_(sock), read_timeout_ms_(read_timeout_ms) {}

  void begin_request(SteadyClock::time_point deadline, size_t byte_budget) {
    deadline_ = deadline;
    budget_ = byte_budget;
  }
  bool has_buffered() const { return off_ < len_; }
  bool read_failed() const { return read_failed_; }

  bool is_readable() const override {
    return has_buffered() || poll_one(sock_, POLLIN, wait_ms());
  }
  bool is_writable() const override { return poll_one(sock_, POLLOUT, read_timeout_ms_); }

  ssize_t read(char* ptr, size_t size) override {
    if (!has_buffered() && !fill()) return -1;
    size_t n = std::min(size, len_ - off_);
    std::memcpy(ptr, buf_ + off_, n);
    off_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    return ::send(sock_, ptr, size, MSG_NOSIGNAL);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    httplib::detail::get_remote_ip_and_port(sock_, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    httplib::detail::get_local_ip_and_port(sock_, ip, port);
  }
  socket_t socket() const override { return sock_; }

 private:
  int wait_ms() const {
    return static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(read_timeout_ms_, ms_until(deadline_))));
  }

  bool fill() {
    read_failed_ = true;  // until data arrives: timed out, over budget, or closed
    if (budget_ == 0) return false;  // request larger than any we accept: drop the connection
    int wait = wait_ms();
    if (wait <= 0 || !poll_one(sock_, POLLIN, wait)) return false;
    ssize_t n = ::recv(sock_, buf_, std::min(sizeof buf_, budget_), 0);
    if (n <= 0) return false;
    read_failed_ = false;
    budget_ -= static_cast<size_t>(n);
    off_ = 0;
    len_ = static_cast<size_t>(n);
    return true;
  }

  int sock_;
  int read_timeout_ms_;
  SteadyClock::time_point deadline_ = SteadyClock::now();
  size_t budget_ = 0;
  char buf_[4096];
  size_t off_ = 0, len_ = 0;
  bool read_failed_ = false;
};

// Fixed workers; enqueue blocks while the queue is full, which stops the accept loop.
class BoundedPool : public httplib::TaskQueue {
 public:
  BoundedPool(size_t workers, size_t max_queue, std::atomic<size_t>& waiting)
      : max_queue_(max_queue), waiting_(waiting) {
    for (size_t i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
  }
  void enqueue(std::function<void()> fn) override {
    std::unique_lock<std::mutex> lock(mu_);
    space_.wait(lock, [&] { return jobs_.size() < max_queue_ || shutdown_; });
    if (shutdown_) return;
    jobs_.push_back(std::move(fn));
    waiting_ = jobs_.size();
    ready_.notify_one();
  }
  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      shutdown_ = true;
    }
    ready_.notify_all();
    space_.notify_all();
    for (auto& t : threads_) t.join();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(mu_);
        ready_.wait(lock, [&] { return !jobs_.empty() || shutdown_; });
        if (shutdown_ && jobs_.empty()) return;
        fn = std::move(jobs_.front());
        jobs_.pop_front();
        waiting_ = jobs_.size();
        space_.notify_one();
      }
      fn();
    }
  }
  size_t max_queue_;
  std::atomic<size_t>& waiting_;  // connections accepted but not yet given a worker
  std::mutex mu_;
  std::condition_variable ready_, space_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  bool shutdown_ = false;
};

class GuardedServer : public httplib::Server {
 public:
  explicit GuardedServer(const HttpServerOptions& o) : o_(o) {
    new_task_queue = [this] { return new BoundedPool(o_.workers, o_.queue, waiting_); };
  }

 private:
  bool process_and_close_socket(socket_t sock) override {
    BudgetStream strm(sock, o_.read_timeout_s * 1000);
    const size_t budget = 8192 /* request line */ + o_.max_header_bytes + o_.max_body_bytes + 1024;
    bool ret = false;
    for (size_t left = o_.keepalive_max_requests; left > 0; --left) {
      if (!strm.has_buffered() && !wait_for_next_request(sock)) break;
      strm.begin_request(SteadyClock::now() + std::chrono::seconds(o_.request_deadline_s), budget);
      bool closed = false;
      ret = process_request(strm, left == 1, closed, nullptr);
      if (!ret || closed || strm.read_failed()) break;  // a client that stalled mid-request is dropped
    }
    httplib::detail::shutdown_socket(sock);
    httplib::detail::close_socket(sock);
    return ret;
  }

  // Idle keep-alive: sleep in poll, waking every 100 ms to notice a stop(). While another
  // connection waits for a worker, an idle one gets only a short grace for its next request
  // (a busy client sends it within a round trip) and then gives its worker up: browsers keep
  // idle connections open and would otherwise hold every worker.
  bool wait_for_next_request(int sock) {
    auto until = SteadyClock::now() + std::chrono::seconds(o_.keepalive_timeout_s);
    auto grace = SteadyClock::now() + std::chrono::milliseconds(20);
    while (svr_sock_ != INVALID_SOCKET) {
      int64_t left = ms_until(until);
      if (left <= 0) return false;
      int step = static_cast<int>(std::min<int64_t>(left, 100));
      if (waiting_ > 0) {
        int64_t g = ms_until(grace);
        if (g <= 0) return false;
        step = static_cast<int>(std::min<int64_t>(step, g));
      }
      if (poll_one(sock, POLLIN, step)) return true;
    }
    return false;
  }

  HttpServerOptions o_;
  std::atomic<size_t> waiting_{0};
};

HttpRequest to_request(const httplib::Request& r) {
  HttpRequest out;
  out.method = r.method;
  out.path = r.path;
  out.body = r.body;
  out.remote_addr = r.remote_addr;
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
    case 416: return "range_not_satisfiable";
    case 431: return "headers_too_large";
    default: return status >= 500 ? "internal_error" : "bad_request";
  }
}

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions opts;
  HttpHandler handler;
  Logger& log;
  GuardedServer server;
  std::atomic<bool> stopped{false};
  Impl(HttpServerOptions o, HttpHandler h, Logger& l)
      : opts(std::move(o)), handler(std::move(h)), log(l), server(opts) {}
};

HttpServer::HttpServer(HttpServerOptions opts, HttpHandler handler, Logger& log)
    : impl_(std::make_unique<Impl>(std::move(opts), std::move(handler), log)) {
  auto& s = impl_->server;
  const auto& o = impl_->opts;
  s.set_tcp_nodelay(true);  // headers and body go out in two writes: avoid the delayed-ACK stall
  s.set_payload_max_length(o.max_body_bytes);
  s.set_read_timeout(o.read_timeout_s, 0);
  s.set_write_timeout(o.read_timeout_s, 0);
  s.set_keep_alive_timeout(o.keepalive_timeout_s);
  s.set_keep_alive_max_count(o.keepalive_max_requests);
  Impl* impl = impl_.get();
  auto route = [impl](const httplib::Request& req, httplib::Response& res) {
    HttpResponse out = impl->handler(to_request(req));
    res.status = out.status;
    for (auto& h : out.headers) res.set_header(h.first.c_str(), h.second);
    if (!out.body.empty() || !out.content_type.empty())
      res.set_content(std::move(out.body), out.content_type.c_str());
  };
  s.Get(".*", route);
  s.Post(".*", route);
  s.Put(".*", route);
  s.Patch(".*", route);
  s.Delete(".*", route);
  s.Options(".*", route);
  // Errors cpp-httplib answers itself (malformed request, body or URI too large) get the same
  // JSON shape as the application's.
  s.set_error_handler(httplib::Server::HandlerWithResponse([impl](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    for (const auto& h : impl->opts.error_headers) res.set_header(h.first.c_str(), h.second);
    res.set_header("Cache-Control", "no-store");
    res.set_content(std::string("{\"error\":{\"code\":\"") + code_for_status(res.status) +
                        "\",\"message\":\"the request was refused: " + httplib::detail::status_message(res.status) + "\"}}",
                    "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));
  s.set_exception_handler([impl](const httplib::Request& req, httplib::Response& res, std::exception_ptr) {
    impl->log.error("http", "internal error while handling " + req.method + " " + req.path);
    res.status = 500;
    res.set_content("{\"error\":{\"code\":\"internal_error\",\"message\":\"internal error; see the agent log\"}}",
                    "application/json");
  });
}

HttpServer::~HttpServer() = default;

Result<int> HttpServer::bind() {
  auto& o = impl_->opts;
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

void HttpServer::run() { impl_->server.listen_after_bind(); }
void HttpServer::stop() {
  // cpp-httplib asserts on a second stop(); signal handling and a failed listen can both ask.
  if (!impl_->stopped.exchange(true)) impl_->server.stop();
}

}  // namespace tracklight::platform
