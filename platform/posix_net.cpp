#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "platform/crypto.hpp"
#include "platform/https_client.hpp"
#include "platform/net_address.hpp"

namespace tracklight::platform {
namespace {

Error net_error(ErrorCode code, const std::string& op, int err, const std::string& detail) {
  return Error{code, op, err, detail};
}

// One address: non-blocking connect, then wait for writability until the deadline.
Result<int> connect_one(const addrinfo* ai, const std::string& where, int64_t deadline_ms, Clock& clock,
                        const std::atomic<bool>* cancel) {
  int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
  if (fd < 0) return net_error(ErrorCode::ConnectFailed, "connect", errno, std::strerror(errno));
  int one = 1;
  // Requests go out in pieces; without this the peer's delayed ACK stalls each one ~40 ms.
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
    int err = errno;
    ::close(fd);
    return net_error(err == ECONNREFUSED ? ErrorCode::ConnectRefused : ErrorCode::ConnectFailed, "connect", err,
                     where + ": " + std::strerror(err));
  }
  for (;;) {
    int64_t left = deadline_ms - clock.monotonic_ms();
    if (cancel && *cancel) left = 0;
    if (left <= 0) {
      ::close(fd);
      return net_error(ErrorCode::Timeout, "connect", ETIMEDOUT, "no answer from " + where + " (TCP connect timed out)");
    }
    pollfd p{fd, POLLOUT, 0};
    int rc = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 200)));
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) continue;
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err == 0) return fd;
    ::close(fd);
    return net_error(err == ECONNREFUSED ? ErrorCode::ConnectRefused : ErrorCode::ConnectFailed, "connect", err,
                     where + ": " + std::strerror(err));
  }
}

}  // namespace

Result<int> connect_tcp(const std::string& host, int port, int64_t deadline_ms, Clock& clock,
                        const std::atomic<bool>* cancel) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  // getaddrinfo cannot be given a deadline; the resolver's own timeout (resolv.conf) bounds it.
  int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (rc != 0)
    return net_error(ErrorCode::DnsFailed, "dns", rc, "cannot resolve " + host + " (" + gai_strerror(rc) + ")");
  const std::string where = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  Result<int> last = net_error(ErrorCode::ConnectFailed, "connect", 0, "no address for " + host);
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    last = connect_one(ai, where, deadline_ms, clock, cancel);
    if (last || last.error().code == ErrorCode::Timeout) break;
  }
  ::freeaddrinfo(res);
  return last;
}

std::string basic_auth_value(const std::string& user, const std::string& password) {
  return "Basic " + base64_encode(user + ":" + password);
}

bool parse_ip_literal(const std::string& text, std::string* bytes) {
  if (text.find('\0') != std::string::npos) return false;  // c_str() would hide the rest
  unsigned char b[16];
  size_t len = 0;
  if (::inet_pton(AF_INET, text.c_str(), b) == 1) len = 4;
  else if (::inet_pton(AF_INET6, text.c_str(), b) == 1) len = 16;
  if (len && bytes) bytes->assign(reinterpret_cast<const char*>(b), len);
  return len != 0;
}

std::string format_ip(const std::string& bytes) {
  if (bytes.size() != 4 && bytes.size() != 16) return "";
  char text[INET6_ADDRSTRLEN] = "";
  return ::inet_ntop(bytes.size() == 4 ? AF_INET : AF_INET6, bytes.data(), text, sizeof text) ? text : "";
}

const std::string* HttpsResponse::header(const std::string& name) const { return find_header(headers, name); }

}  // namespace tracklight::platform
