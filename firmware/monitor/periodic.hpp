// The background-thread shape the monitor and the board poller share: tick() does whatever is
// due and says when the next thing is; run() sleeps until then (no polling loop: an idle agent
// must not wake up), and wakes early on notify() or stop(). Tests call tick() with a fake clock
// instead of running the thread.
//
// A tick that throws (out of memory, a bug) must not end the thread: under systemd a dead
// monitor thread means std::terminate and a restart loop. run() catches everything, logs the
// first failure of a run of them once, and tries again after kRetryAfterFaultMs.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include "platform/clock.hpp"
#include "platform/log.hpp"

namespace tracklight::firmware {

class Periodic {
 public:
  static constexpr int64_t kRetryAfterFaultMs = 60000;

  Periodic(platform::Clock& clock, platform::Logger& log, std::string component)
      : clock_(clock), fault_log_(log), component_(std::move(component)) {}
  virtual ~Periodic() = default;
  // Runs every piece of work that is due; returns the monotonic time the next one is due
  // (INT64_MAX: none planned).
  virtual int64_t tick() = 0;
  // tick(), but it never throws: a fault is logged (once until a tick succeeds again) and the
  // next try is planned kRetryAfterFaultMs later. What run() calls.
  int64_t guarded_tick();
  void run();   // until stop()
  void stop();  // also raises the cancel flag a piece of work in flight watches
  // Devices that boot together must not poll together: the agent seeds the jitter from its
  // entropy source (tests keep the fixed default, which makes schedules repeatable).
  void seed_jitter(uint64_t seed) {
    if (seed) jitter_state_ = seed;  // xorshift never leaves 0
  }

 protected:
  // New work may be due sooner than run() planned; the wake-up is kept even when it arrives
  // while tick() is still running. Caller holds mu_.
  void notify() {
    woken_ = true;
    wake_.notify_all();
  }
  // ms +-10 %: boards that booted together do not all poll at the same second.
  int64_t jittered(int64_t ms);

  platform::Clock& clock_;
  mutable std::mutex mu_;
  std::atomic<bool> stopping_{false};

 private:
  std::condition_variable wake_;
  bool woken_ = false;  // notify() since run() last called tick(); guarded by mu_
  platform::Logger& fault_log_;
  std::string component_;
  bool faulted_ = false;  // the last tick threw; only the run() thread touches it
  uint64_t jitter_state_ = 0x2545F4914F6CDD1DULL;
};

}  // namespace tracklight::firmware
