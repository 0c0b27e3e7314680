// The reading side of the local HTTP server. One thread poll()s the listening socket and every
// connection, buffers what arrives, and hands a connection to the workers only once it holds a
// whole request (http_framing.hpp decides where it ends). A slow or idle client therefore costs
// a buffer, never a worker.
//
// Bounds: at most `max_connections` open, `max_per_client` of them from one non-loopback address
// (the kiosk browser and a local attacker share 127.0.0.1, so loopback is bounded by the total
// only). A new connection over a bound evicts the connection that has waited longest without a
// complete request; one that has completed its head or body is being served and is never
// evicted. Deadlines count from the first byte of a request, not the last.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "platform/internal/http_framing.hpp"
#include "platform/internal/tls_accept.hpp"
#include "platform/http_server.hpp"

namespace tracklight::platform {

struct IntakeOptions {
  FramingLimits framing;
  size_t max_connections = 128;
  size_t max_per_client = 16;
  bool exempt_loopback = true;     // off only in tests, where 127.0.0.1 stands in for a LAN address
  int header_deadline_ms = 5000;   // request line and headers
  int request_deadline_ms = 10000; // the whole request
  int keepalive_ms = 5000;         // between requests
  int linger_ms = 1000;            // after our last answer, to let the client read it before close
  HeaderList error_headers;
  std::shared_ptr<TlsServerConfig> tls;  // set: every connection speaks TLS (HTTPS listener)
};

// One client connection. While a worker has it, only that worker touches it.
struct Connection {
  int fd = -1;
  std::string client;  // peer address, as cpp-httplib formats it
  int client_port = 0;
  bool loopback = false;
  std::string in;                // received, not yet answered
  size_t request_bytes = 0;      // the first request in `in`, when handed to a worker
  bool continue_sent = false;    // we answered its Expect: 100-continue
  size_t served = 0;             // requests answered on this connection
  enum State { Reading, Busy, Lingering } state = Reading;
  int64_t since_ms = 0;          // start of the current wait (accept, last answer, first byte)
  int64_t deadline_ms = 0;
  bool has_bytes = false;        // a request has started arriving
  std::unique_ptr<TlsServerSession> tls;  // HTTPS: the bytes above are the decrypted ones
  bool want_write = false;       // TLS must send before it can read on
};

// The connection's transport, plain or TLS: one read (bytes, 0 when the peer is done, -1 on
// failure, -2 to wait for readable, -3 for writable) and a best-effort send of a short answer.
ssize_t connection_read(Connection& c, char* buf, size_t len);
void connection_send_now(Connection& c, const std::string& bytes);

class Intake {
 public:
  // `serve` runs on the intake thread with a complete request; the connection belongs to the
  // callee until it calls give_back().
  using Serve = std::function<void(Connection&)>;
  Intake(int listen_fd, IntakeOptions opts, RefusalLog& refusals, Serve serve);
  ~Intake();
  Intake(const Intake&) = delete;
  Intake& operator=(const Intake&) = delete;

  void run();   // until stop(); the listening socket stays open (its owner closes it)
  void stop();  // any thread
  // Any thread. keep = false: the answer said Connection: close.
  void give_back(Connection& c, bool keep);
  // Any thread: connections accepted from now on use this certificate; those already open keep
  // theirs (their session holds it).
  void replace_tls(std::shared_ptr<TlsServerConfig> tls);

 private:
  void accept_new(int64_t now);
  bool make_room(const std::string& client, bool loopback, int64_t now);
  void on_readable(Connection& c, int64_t now);
  void advance(Connection& c, int64_t now);
  void refuse(Connection& c, int status, const char* rule, const char* message, int64_t now);
  void linger(Connection& c, int64_t now);
  void close_conn(Connection& c);
  void take_returned(int64_t now);
  void expire(int64_t now);
  int poll_timeout(int64_t now);
  void wake();

  int listen_fd_;
  IntakeOptions o_;
  RefusalLog& refusals_;
  Serve serve_;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
  std::vector<std::unique_ptr<Connection>> conns_;
  std::mutex tls_mu_;  // guards o_.tls against replace_tls()
  std::mutex returned_mu_;
  std::vector<std::pair<Connection*, bool>> returned_;
  int64_t accept_paused_until_ = 0;  // after EMFILE
};

}  // namespace tracklight::platform
