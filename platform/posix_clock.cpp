#include "platform/clock.hpp"

#include <ctime>

namespace tracklight::platform {

bool wall_clock_plausible(int64_t wall_time_s) {
  return wall_time_s >= 1767225600;  // 2026-01-01T00:00:00Z
}

int64_t PosixClock::monotonic_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

int64_t PosixClock::wall_time_s() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec);
}

}  // namespace tracklight::platform
