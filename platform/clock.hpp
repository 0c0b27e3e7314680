// Time. Intervals, timeouts and rate limits use monotonic_ms(); wall time is for display,
// session expiry stamps and certificate validity. Thread-safe.
#pragma once
#include <cstdint>

namespace tracklight::platform {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t monotonic_ms() = 0;
  virtual int64_t wall_time_s() = 0;  // seconds since the Unix epoch
};

// A board without a real-time clock boots in 1970 until NTP syncs; anything before this
// build's own year cannot be right.
bool wall_clock_plausible(int64_t wall_time_s);

class PosixClock : public Clock {
 public:
  int64_t monotonic_ms() override;
  int64_t wall_time_s() override;
};

}  // namespace tracklight::platform
