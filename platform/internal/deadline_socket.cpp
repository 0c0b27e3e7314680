#include "platform/internal/deadline_socket.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace tracklight::platform {

DeadlineSocket::DeadlineSocket(int fd, Clock& clock, int64_t deadline_ms, const std::atomic<bool>* cancel,
                               std::string op, std::string text)
    : fd_(fd), clock_(clock), deadline_ms_(deadline_ms), cancel_(cancel), op_(std::move(op)), text_(std::move(text)) {}

bool DeadlineSocket::timed_out() {
  failed_ = true;
  failure_ = Error{ErrorCode::Timeout, op_, ETIMEDOUT, "timed out " + text_};
  return false;
}

bool DeadlineSocket::time_left() {
  if (deadline_ms_ - clock_.monotonic_ms() <= 0 || (cancel_ && *cancel_)) return timed_out();
  return true;
}

bool DeadlineSocket::wait(bool for_read) {
  for (;;) {
    if (!time_left()) return false;
    const int64_t left = deadline_ms_ - clock_.monotonic_ms();
    pollfd p{fd_, static_cast<short>(for_read ? POLLIN : POLLOUT), 0};
    int rc = ::poll(&p, 1, static_cast<int>(std::clamp<int64_t>(left, 1, 200)));  // 200 ms: notice a cancel
    if (rc < 0 && errno == EINTR) continue;
    if (rc > 0) return true;
    if (rc < 0) return timed_out();
  }
}

ssize_t DeadlineSocket::read(char* buf, size_t len) {
  for (;;) {
    if (!time_left()) return -1;
    ssize_t n = ::recv(fd_, buf, len, 0);
    if (n >= 0) return n;
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return -1;
    if (!wait(true)) return -1;
  }
}

ssize_t DeadlineSocket::write(const char* buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    if (!time_left()) return -1;
    ssize_t n = ::send(fd_, buf + done, len - done, MSG_NOSIGNAL);
    if (n >= 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return -1;
    if (!wait(false)) return -1;
  }
  return static_cast<ssize_t>(done);
}

}  // namespace tracklight::platform
