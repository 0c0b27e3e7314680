// Internal to platform/: a connected non-blocking socket with one deadline (and cancel flag) for
// everything done on it, and the name of the phase in progress, so that a stalled or dripping
// peer ends the exchange at the deadline and the error says where it stopped.
// Thread-safety: one thread at a time.
#pragma once
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>
#include "platform/clock.hpp"
#include "platform/result.hpp"

namespace tracklight::platform {

class DeadlineSocket {
 public:
  // op: the phase's short name in errors ("TLS handshake", "proxy"); text follows "timed out ".
  DeadlineSocket(int fd, Clock& clock, int64_t deadline_ms, const std::atomic<bool>* cancel, std::string op,
                 std::string text);

  int fd() const { return fd_; }
  void set_phase(std::string text) { text_ = std::move(text); }
  // False once the deadline passed or the cancel flag is set; failure() then says so.
  bool time_left();
  // Waits until the socket can be read (or written). False at the deadline.
  bool wait(bool for_read);
  // Plain reads and writes that wait up to the deadline; -1 on an error or the deadline.
  ssize_t read(char* buf, size_t len);
  ssize_t write(const char* buf, size_t len);
  // Why the last read or write failed, when it was ours (deadline) rather than the peer's.
  const Error* failure() const { return failed_ ? &failure_ : nullptr; }

 private:
  bool timed_out();

  int fd_;
  Clock& clock_;
  int64_t deadline_ms_;
  const std::atomic<bool>* cancel_;
  std::string op_, text_;
  bool failed_ = false;
  Error failure_;
};

}  // namespace tracklight::platform
