// The background-thread shape: a tick that throws costs that round, never the thread.
#include "firmware/periodic.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

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

}  // namespace
}  // namespace tracklight::firmware
