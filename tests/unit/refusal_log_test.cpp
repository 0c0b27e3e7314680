// Refusals are logged one line each, rate-limited per rule, and a flood leaves a count.
#include <gtest/gtest.h>

#include "tests/support/fakes.hpp"

namespace tracklight::test {
namespace {

size_t count_with(const std::vector<std::string>& lines, const std::string& part) {
  size_t n = 0;
  for (const auto& l : lines) n += l.find(part) != std::string::npos;
  return n;
}

TEST(RefusalLog, OneLinePerRefusalWithClientAndRule) {
  platform::MemoryLogger log;
  FakeClock clock;
  platform::RefusalLog refusals(log, clock, 3);
  refusals.refused("csrf_token_invalid", "192.0.2.7", "POST /api/v1/logout");
  auto lines = log.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("192.0.2.7"), std::string::npos);
  EXPECT_NE(lines[0].find("csrf_token_invalid"), std::string::npos);
  EXPECT_NE(lines[0].find("POST /api/v1/logout"), std::string::npos);
}

TEST(RefusalLog, AFloodIsCappedPerRuleAndCounted) {
  platform::MemoryLogger log;
  FakeClock clock;
  platform::RefusalLog refusals(log, clock, 3);
  EXPECT_EQ(refusals.next_flush_ms(), -1);
  for (int i = 0; i < 1000; ++i) refusals.refused("host_not_allowed", "192.0.2.7", "GET /");
  refusals.refused("origin_refused", "192.0.2.8", "PUT /api/v1/connections/x");
  EXPECT_EQ(count_with(log.lines(), "host_not_allowed"), 3u);
  EXPECT_EQ(count_with(log.lines(), "origin_refused"), 1u);
  EXPECT_EQ(refusals.next_flush_ms(), clock.now_ms + 60000);
  clock.now_ms += 59999;
  refusals.flush();
  EXPECT_EQ(count_with(log.lines(), "suppressed"), 0u);
  clock.now_ms += 1;
  refusals.flush();
  EXPECT_EQ(count_with(log.lines(), "suppressed 997 more refusals (rule host_not_allowed)"), 1u);
  EXPECT_EQ(refusals.next_flush_ms(), -1);
  // A new minute logs again.
  refusals.refused("host_not_allowed", "192.0.2.7", "GET /");
  EXPECT_EQ(count_with(log.lines(), "refused 192.0.2.7 (rule host_not_allowed)"), 4u);
}

TEST(RefusalLog, LongRequestsAreCutShort) {
  platform::MemoryLogger log;
  FakeClock clock;
  platform::RefusalLog refusals(log, clock);
  refusals.refused("bad_host", "192.0.2.7", "GET /" + std::string(8000, 'a'));
  EXPECT_LT(log.lines().at(0).size(), 400u);
}

}  // namespace
}  // namespace tracklight::test
