#include "platform/internal/http_intake.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

namespace tracklight::platform {
namespace {

constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kMaxLingerBytes = 64 * 1024;  // discarded after our last answer, then we close
constexpr int kListenBacklog = 128;            // cpp-httplib's 5 drops SYNs under a connection flood

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }


void peer_of(int fd, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  char text[INET6_ADDRSTRLEN] = "";
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return;
  if (addr.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    port = ntohs(a->sin6_port);
  }
  ip = text;
}

bool is_loopback(const std::string& ip) {
  return ip.rfind("127.", 0) == 0 || ip == "::1" || ip.rfind("::ffff:127.", 0) == 0;
}

const char* reason(int status) {
  switch (status) {
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    default: return "Bad Request";
  }
}

// The JSON error shape of the application (SPEC section 2); `message` is one of our literals.
std::string error_answer(int status, const char* code, const char* message, const HeaderList& extra) {
  std::string body = std::string("{\"error\":{\"code\":\"") + code + "\",\"message\":\"" + message + "\"}}";
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) +
                    "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\nConnection: close\r\nCache-Control: no-store\r\n";
  for (const auto& h : extra) out += h.first + ": " + h.second + "\r\n";
  return out + "\r\n" + body;
}

}  // namespace

ssize_t connection_read(Connection& c, char* buf, size_t len) {
  if (c.tls) return c.tls->read(buf, len);
  ssize_t n = ::recv(c.fd, buf, len, 0);
  if (n >= 0) return n;
  return errno == EAGAIN || errno == EINTR ? TlsServerSession::WantRead : TlsServerSession::Failed;
}

// Best effort: the socket buffer of a connection we are about to close is empty or nearly so.
void connection_send_now(Connection& c, const std::string& bytes) {
  if (!c.tls) {
    ssize_t rc = ::send(c.fd, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    (void)rc;
    return;
  }
  for (size_t done = 0; done < bytes.size();) {
    ssize_t n = c.tls->write(bytes.data() + done, bytes.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

Intake::Intake(int listen_fd, IntakeOptions opts, RefusalLog& refusals, Serve serve)
    : listen_fd_(listen_fd), o_(std::move(opts)), refusals_(refusals), serve_(std::move(serve)) {
  if (::pipe(wake_) == 0) {
    set_nonblocking(wake_[0]);
    set_nonblocking(wake_[1]);
  }
}

Intake::~Intake() {
  for (auto& c : conns_)
    if (c->fd >= 0) ::close(c->fd);
  for (int fd : wake_)
    if (fd >= 0) ::close(fd);
}

void Intake::stop() {
  stopping_ = true;
  wake();
}

void Intake::wake() {
  ssize_t rc = ::write(wake_[1], "x", 1);  // a full pipe already wakes the loop
  (void)rc;
}

void Intake::give_back(Connection& c, bool keep) {
  {
    std::lock_guard<std::mutex> lock(returned_mu_);
    returned_.emplace_back(&c, keep);
  }
  wake();
}

void Intake::replace_tls(std::shared_ptr<TlsServerConfig> tls) {
  std::lock_guard<std::mutex> lock(tls_mu_);
  o_.tls = std::move(tls);
}

void Intake::run() {
  set_nonblocking(listen_fd_);
  ::listen(listen_fd_, kListenBacklog);
  std::vector<pollfd> fds;
  std::vector<Connection*> polled;
  while (!stopping_) {
    int64_t now = now_ms();
    take_returned(now);
    expire(now);
    refusals_.flush();
    size_t busy = 0;
    fds.assign(1, pollfd{wake_[0], POLLIN, 0});
    polled.clear();
    for (auto& c : conns_) {
      if (c->state == Connection::Busy) {
        ++busy;
        continue;
      }
      fds.push_back(pollfd{c->fd, static_cast<short>(POLLIN | (c->want_write ? POLLOUT : 0)), 0});
      polled.push_back(c.get());
    }
    // With every slot being served, new connections wait in the kernel's backlog.
    bool accepting = busy < o_.max_connections && now >= accept_paused_until_;
    if (accepting) fds.push_back(pollfd{listen_fd_, POLLIN, 0});
    int rc = ::poll(fds.data(), fds.size(), poll_timeout(now));
    if (rc < 0 && errno != EINTR) break;
    if (rc <= 0) continue;
    now = now_ms();
    if (fds[0].revents) {
      char drain[64];
      while (::read(wake_[0], drain, sizeof drain) > 0) {
      }
    }
    for (size_t i = 0; i < polled.size(); ++i)
      if (fds[i + 1].revents) on_readable(*polled[i], now);
    if (accepting && fds.back().revents) accept_new(now);
    conns_.erase(std::remove_if(conns_.begin(), conns_.end(), [](const auto& c) { return c->fd < 0; }), conns_.end());
  }
}

void Intake::accept_new(int64_t now) {
  for (int i = 0; i < 64; ++i) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      if (errno == EMFILE || errno == ENFILE) {
        accept_paused_until_ = now + 100;
        refusals_.refused("out_of_file_descriptors", "-", "new connections wait in the backlog");
      }
      return;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // headers and body go out in two writes
    auto c = std::make_unique<Connection>();
    c->fd = fd;
    peer_of(fd, c->client, c->client_port);
    c->loopback = o_.exempt_loopback && is_loopback(c->client);
    std::shared_ptr<TlsServerConfig> tls;
    {
      std::lock_guard<std::mutex> lock(tls_mu_);
      tls = o_.tls;
    }
    if (tls) {
      c->tls = std::make_unique<TlsServerSession>(std::move(tls), fd);
      if (!c->tls->ok()) {
        refusals_.refused("tls_setup_failed", c->client, c->tls->why().c_str());
        ::close(fd);
        continue;
      }
    }
    if (!make_room(c->client, c->loopback, now)) {
      refusals_.refused("too_many_connections", c->client, "every connection of this client is being served");
      ::close(fd);
      continue;
    }
    c->since_ms = now;
    c->deadline_ms = now + o_.header_deadline_ms;
    conns_.push_back(std::move(c));
  }
}

// Drops the connection that has waited longest without a complete request (one that is
// lingering after its last answer first), from `client` when that address is over its own
// bound, else from anyone when the total is reached.
bool Intake::make_room(const std::string& client, bool loopback, int64_t now) {
  auto victim_among = [&](bool same_client) {
    Connection* v = nullptr;
    for (auto& c : conns_) {
      if (c->fd < 0 || c->state == Connection::Busy || (same_client && c->client != client)) continue;
      auto key = [](const Connection* x) { return std::make_pair(x->state != Connection::Lingering, x->since_ms); };
      if (!v || key(c.get()) < key(v)) v = c.get();
    }
    return v;
  };
  size_t live = 0, mine = 0;
  for (auto& c : conns_) {
    if (c->fd < 0) continue;
    ++live;
    if (c->client == client) ++mine;
  }
  bool over_mine = !loopback && mine >= o_.max_per_client;
  if (!over_mine && live < o_.max_connections) return true;
  Connection* v = victim_among(over_mine);
  if (!v) return false;
  if (v->state != Connection::Lingering)
    refusals_.refused(over_mine ? "too_many_connections_per_client" : "too_many_connections", v->client,
                      "the oldest waiting connection was closed to make room");
  close_conn(*v);
  (void)now;
  return true;
}

void Intake::on_readable(Connection& c, int64_t now) {
  char buf[kReadChunk];
  if (c.state == Connection::Lingering) {
    ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n > 0) c.request_bytes += static_cast<size_t>(n);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) || c.request_bytes > kMaxLingerBytes) close_conn(c);
    return;
  }
  if (c.tls && !c.tls->established()) {
    // The handshake's deadline is the head's: it runs from the accept.
    ssize_t h = c.tls->handshake();
    c.want_write = h == TlsServerSession::WantWrite;
    if (h == TlsServerSession::Failed) {
      refusals_.refused("tls_handshake_failed", c.client, c.tls->why().c_str());
      close_conn(c);
      return;
    }
    if (h != 1) return;
  }
  const FramingLimits& f = o_.framing;
  size_t cap = f.max_request_line + f.max_header_bytes + 2 * f.max_body + 4096;
  // TLS can hold a decrypted record's rest inside mbedTLS, where poll() does not see it.
  for (int round = 0; round == 0 || (c.tls && c.tls->buffered() > 0 && c.state == Connection::Reading); ++round) {
    // Small chunks with long extensions can fill the buffer before the framer sees a body over
    // its limit; waiting would leave the socket readable and spin the poll loop.
    if (c.in.size() >= cap) return refuse(c, 413, "request_too_large", "the request is larger than the agent accepts", now);
    ssize_t n = connection_read(c, buf, std::min(sizeof buf, cap - c.in.size()));
    c.want_write = n == TlsServerSession::WantWrite;
    if (n == TlsServerSession::WantRead || n == TlsServerSession::WantWrite) return;
    if (n <= 0) {  // the client left; half a request is not answered
      close_conn(c);
      return;
    }
    if (!c.has_bytes) {
      c.has_bytes = true;
      c.since_ms = now;
    }
    c.in.append(buf, static_cast<size_t>(n));
    advance(c, now);
  }
}

// Decides what the buffered bytes are: a request to serve, one still arriving, or a refusal.
void Intake::advance(Connection& c, int64_t now) {
  if (c.in.empty()) {
    c.has_bytes = false;
    c.deadline_ms = c.since_ms + (c.served ? o_.keepalive_ms : o_.header_deadline_ms);
    return;
  }
  Framing f = frame_request(c.in.data(), c.in.size(), o_.framing);
  if (f.kind == Framing::Refused) return refuse(c, f.status, f.rule, f.message, now);
  if (f.kind == Framing::Complete) {
    c.request_bytes = f.total_bytes;
    c.state = Connection::Busy;
    serve_(c);
    return;
  }
  if (f.head_bytes == 0) {
    c.deadline_ms = c.since_ms + o_.header_deadline_ms;
    return;
  }
  c.deadline_ms = c.since_ms + o_.request_deadline_ms;
  if (f.expect_continue && !c.continue_sent) {
    connection_send_now(c, "HTTP/1.1 100 Continue\r\n\r\n");
    c.continue_sent = true;
  }
}

void Intake::refuse(Connection& c, int status, const char* rule, const char* message, int64_t now) {
  refusals_.refused(rule, c.client, message);
  connection_send_now(c, error_answer(status, rule, message, o_.error_headers));
  linger(c, now);
}

// Our side is done: the client reads the answer, and whatever it still sends is discarded
// (closing with unread bytes would reset the connection and could destroy the answer).
void Intake::linger(Connection& c, int64_t now) {
  if (c.tls) c.tls->close_notify();
  ::shutdown(c.fd, SHUT_WR);
  c.state = Connection::Lingering;
  std::string().swap(c.in);
  c.request_bytes = 0;  // counts discarded bytes from here on
  c.since_ms = now;
  c.deadline_ms = now + o_.linger_ms;
}

void Intake::close_conn(Connection& c) {
  ::close(c.fd);
  c.fd = -1;
  c.state = Connection::Lingering;  // swept at the end of the loop
}

void Intake::take_returned(int64_t now) {
  std::vector<std::pair<Connection*, bool>> back;
  {
    std::lock_guard<std::mutex> lock(returned_mu_);
    back.swap(returned_);
  }
  for (auto& [c, keep] : back) {
    if (!keep) {
      linger(*c, now);
      continue;
    }
    c->state = Connection::Reading;
    c->continue_sent = false;
    c->since_ms = now;
    c->has_bytes = !c->in.empty();
    if (c->in.empty() && c->in.capacity() > kReadChunk) std::string().swap(c->in);  // idle RSS
    advance(*c, now);  // a pipelined request may already be here
  }
}

void Intake::expire(int64_t now) {
  for (auto& c : conns_) {
    if (c->fd < 0 || c->state == Connection::Busy || c->deadline_ms > now) continue;
    if (c->state == Connection::Lingering || !c->has_bytes) close_conn(*c);
    else refuse(*c, 408, "request_timeout", "the request did not arrive in time; send it at once", now);
  }
}

int Intake::poll_timeout(int64_t now) {
  int64_t next = refusals_.next_flush_ms();
  for (auto& c : conns_)
    if (c->fd >= 0 && c->state != Connection::Busy && (next < 0 || c->deadline_ms < next)) next = c->deadline_ms;
  if (accept_paused_until_ > now && (next < 0 || accept_paused_until_ < next)) next = accept_paused_until_;
  if (next < 0) return -1;
  return static_cast<int>(std::max<int64_t>(0, next - now));
}

}  // namespace tracklight::platform
