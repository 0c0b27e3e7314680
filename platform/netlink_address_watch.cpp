#include "platform/address_watch.hpp"

#include <atomic>
#include <cerrno>
#include <climits>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tracklight::platform {

struct AddressWatch::Impl {
  int nl = -1;
  int stop_pipe[2] = {-1, -1};
  std::atomic<bool> stopped{false};

  // Reads every queued message; true when one says an address came or went. A full queue
  // (ENOBUFS: the kernel dropped events) counts as a change. Any other error ends the watch.
  bool drain() {
    bool changed = false;
    alignas(nlmsghdr) char buf[8192];
    for (;;) {
      ssize_t n = ::recv(nl, buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == ENOBUFS) return true;
        if (errno != EAGAIN && errno != EWOULDBLOCK) close_socket();
        return changed;
      }
      if (n == 0) return changed;
      size_t len = static_cast<size_t>(n);
      for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len))
        if (h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_DELADDR) changed = true;
    }
  }
  void close_socket() {
    ::close(nl);
    nl = -1;
  }
};

AddressWatch::AddressWatch() : impl_(std::make_unique<Impl>()) {
  if (::pipe2(impl_->stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) impl_->stop_pipe[0] = impl_->stop_pipe[1] = -1;
  int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  if (fd < 0) return;
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return;
  }
  impl_->nl = fd;
}

AddressWatch::~AddressWatch() {
  if (impl_->nl >= 0) ::close(impl_->nl);
  for (int fd : impl_->stop_pipe)
    if (fd >= 0) ::close(fd);
}

bool AddressWatch::watching() const { return impl_->nl >= 0; }

AddressWatch::Event AddressWatch::wait(int64_t timeout_ms) {
  if (impl_->stopped) return Event::Stopped;
  // Without the stop pipe, a stop is noticed by waking up every second.
  const int64_t cap = impl_->stop_pipe[0] >= 0 ? INT_MAX : 1000;
  const int timeout = static_cast<int>(timeout_ms < 0 || timeout_ms > cap ? cap : timeout_ms);
  pollfd fds[2] = {{impl_->stop_pipe[0], POLLIN, 0}, {impl_->nl, POLLIN, 0}};  // poll() skips a negative fd
  int n = ::poll(fds, 2, timeout);
  if (impl_->stopped) return Event::Stopped;
  if (n < 0) {
    if (errno != EINTR) ::poll(nullptr, 0, 1000);  // out of memory, say: no busy loop meanwhile
    return Event::TimedOut;
  }
  if (n == 0) return Event::TimedOut;
  if (fds[1].revents & POLLNVAL) {
    impl_->nl = -1;
    return Event::Changed;
  }
  // POLLERR is how the kernel reports dropped events (ENOBUFS): recv() reads that error.
  if (fds[1].revents & (POLLIN | POLLERR)) {
    const bool changed = impl_->drain();
    return changed || impl_->nl < 0 ? Event::Changed : Event::TimedOut;
  }
  return Event::TimedOut;
}

void AddressWatch::stop() {
  impl_->stopped = true;
  if (impl_->stop_pipe[1] >= 0) {
    char b = 1;
    ssize_t w = ::write(impl_->stop_pipe[1], &b, 1);
    (void)w;
  }
}

}  // namespace tracklight::platform
