// The background-thread shape: a tick that throws costs that round, never the thread.
#include "firmware/monitor/periodic.hpp"

#include <gtest/gtest.h>

#include <future>
#include <stdexcept>
#include <thread>

#include "tests/support/fakes.hpp"

namespace tracklight::firmware {
namespace {

struct Flaky : Periodic {
  Flaky(platform::Clock& clock, platform::Logger& log) : Periodic(clock, log, "flaky") {}
  int throws = 0;  // how many of the next ticks throw
  bool stop_before_throwing = false;
  int ticks = 0;
  int64_t tick() override {
    ++ticks;
    if (throws > 0) {
      --throws;
      if (stop_before_throwing) stop();
      throw std::runtime_error("simulated fault");
    }
    return clock_.monotonic_ms() + 1000;
  }
};

size_t lines_with(platform::MemoryLogger& log, const std::string& part) {
  size_t n = 0;
  for (const auto& l : log.lines()) n += l.find(part) != std::string::npos;
  return n;
}

TEST(Periodic, AThrowingTickIsLoggedOnceAndTriedAgainLater) {
  test::FakeClock clock;
  platform::MemoryLogger log;
  Flaky p(clock, log);
  p.throws = 3;
  for (int i = 0; i < 3; ++i) {
    int64_t next = 0;
    ASSERT_NO_THROW(next = p.guarded_tick());
    EXPECT_EQ(next, clock.now_ms + Periodic::kRetryAfterFaultMs) << "a fault must not make the loop spin";
    clock.now_ms += Periodic::kRetryAfterFaultMs;
  }
  EXPECT_EQ(lines_with(log, "flaky: a background round failed: simulated fault"), 1u) << "logged on every tick";
  EXPECT_EQ(p.guarded_tick(), clock.now_ms + 1000);
  EXPECT_EQ(lines_with(log, "flaky: running again"), 1u);
  p.throws = 1;
  p.guarded_tick();
  EXPECT_EQ(lines_with(log, "a background round failed"), 2u) << "a new run of failures is logged again";
}

// run() on this thread: an exception escaping it would, on the agent's own threads, be
// std::terminate.
TEST(Periodic, RunSurvivesAThrowingTick) {
  test::FakeClock clock;
  platform::MemoryLogger log;
  Flaky p(clock, log);
  p.throws = 1;
  p.stop_before_throwing = true;  // so that run() returns instead of waiting for the retry
  EXPECT_NO_THROW(p.run());
  EXPECT_EQ(p.ticks, 1);
  EXPECT_EQ(lines_with(log, "a background round failed"), 1u);
}

// Settings change while tick() is running (a commit on an HTTP worker): the wake-up must not be
// lost, or a board switched on waits for the next planned tick, up to an hour.
class WakesDuringTick : public Periodic {
 public:
  WakesDuringTick(platform::Clock& clock, platform::Logger& log) : Periodic(clock, log, "wakes") {}
  int ticks = 0;
  std::promise<void> second_tick;
  int64_t tick() override {
    if (++ticks == 1) {
      std::lock_guard<std::mutex> lock(mu_);
      notify();  // as sync() does from another thread, after this tick looked at the state
    } else if (ticks == 2) {
      second_tick.set_value();
    }
    return INT64_MAX;  // nothing planned: without the wake-up, run() sleeps for an hour
  }
};

TEST(Periodic, AWakeUpDuringTickIsNotLost) {
  test::FakeClock clock;
  platform::MemoryLogger log;
  WakesDuringTick p(clock, log);
  auto second = p.second_tick.get_future();
  std::thread t([&] { p.run(); });
  // Bounded: the second tick comes at once, or the wake-up was lost and it would take an hour.
  const bool woke = second.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
  p.stop();
  t.join();
  EXPECT_TRUE(woke);
}

class Jitter : public Periodic {
 public:
  Jitter(platform::Clock& clock, platform::Logger& log) : Periodic(clock, log, "jitter") {}
  int64_t tick() override { return INT64_MAX; }
  int64_t next(int64_t ms) { return jittered(ms); }
};

TEST(Periodic, JitterFollowsTheSeed) {
  test::FakeClock clock;
  platform::MemoryLogger log;
  Jitter a(clock, log), b(clock, log), c(clock, log);
  b.seed_jitter(0x1234567);
  c.seed_jitter(0x1234567);
  int same_ab = 0, same_bc = 0;
  for (int i = 0; i < 20; ++i) {
    const int64_t va = a.next(300000), vb = b.next(300000), vc = c.next(300000);
    EXPECT_GE(vb, 270000);
    EXPECT_LE(vb, 330000);
    same_ab += va == vb;
    same_bc += vb == vc;
  }
  EXPECT_LT(same_ab, 3);
  EXPECT_EQ(same_bc, 20);
}

}  // namespace
}  // namespace tracklight::firmware
