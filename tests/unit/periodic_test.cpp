// The background-thread shape shared by the monitor and the board poller.
#include "firmware/periodic.hpp"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "tests/support/fakes.hpp"

namespace tracklight::firmware {
namespace {

// Settings change while tick() is running (a commit on an HTTP worker): the wake-up must not be
// lost, or a board switched on waits for the next planned tick, up to an hour.
class WakesDuringTick : public Periodic {
 public:
  using Periodic::Periodic;
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
  WakesDuringTick p(clock);
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
  using Periodic::Periodic;
  int64_t tick() override { return INT64_MAX; }
  int64_t next(int64_t ms) { return jittered(ms); }
};

TEST(Periodic, JitterFollowsTheSeed) {
  test::FakeClock clock;
  Jitter a(clock), b(clock), c(clock);
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
