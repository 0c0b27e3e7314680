#include "firmware/monitor/periodic.hpp"

#include <algorithm>
#include <exception>

namespace tracklight::firmware {

int64_t Periodic::jittered(int64_t ms) {
  jitter_state_ ^= jitter_state_ << 13;
  jitter_state_ ^= jitter_state_ >> 7;
  jitter_state_ ^= jitter_state_ << 17;
  const int64_t spread = ms / 10;
  return spread > 0 ? ms - spread + static_cast<int64_t>(jitter_state_ % static_cast<uint64_t>(2 * spread + 1)) : ms;
}

int64_t Periodic::guarded_tick() {
  std::string why;
  try {
    const int64_t next = tick();
    if (faulted_) fault_log_.info(component_, "running again after the failure");
    faulted_ = false;
    return next;
  } catch (const std::exception& e) {
    why = e.what();
  } catch (...) {
    why = "an unknown error";
  }
  if (!faulted_)
    fault_log_.error(component_, "a background round failed: " + why + "; retrying every " +
                                     std::to_string(kRetryAfterFaultMs / 1000) + " s");
  faulted_ = true;
  return clock_.monotonic_ms() + kRetryAfterFaultMs;
}

void Periodic::run() {
  constexpr int64_t kHourMs = 3600000;
  while (!stopping_) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      woken_ = false;  // tick() sees every change made before this point
    }
    const int64_t next = guarded_tick();
    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_) break;
    const int64_t wait = std::min<int64_t>(next == INT64_MAX ? kHourMs : next - clock_.monotonic_ms(), kHourMs);
    if (wait > 0) wake_.wait_for(lock, std::chrono::milliseconds(wait), [&] { return woken_ || stopping_.load(); });
  }
}

void Periodic::stop() {
  stopping_ = true;
  std::lock_guard<std::mutex> lock(mu_);
  notify();
}

}  // namespace tracklight::firmware
