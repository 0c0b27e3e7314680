// The monitor with a fake clock and an in-memory tracker: statuses, backoff, no retry storm.
#include "firmware/monitor/monitor.hpp"

#include <gtest/gtest.h>

#include "tests/support/fakes.hpp"

namespace tracklight::firmware {
namespace {

struct MonitorTest : ::testing::Test {
  test::FakeClock clock;
  test::FakeHttps https;
  platform::MemoryLogger log;
  Monitor monitor{clock, https, log, 20000};
  int answer = 200;  // what the fake Jira answers to myself
  std::string permissions_body;  // when set, the body of mypermissions

  void SetUp() override {
    https.respond = [this](const std::string& path) {
      platform::HttpsResponse r = test::happy_jira_cloud(path);
      if (path.find("myself") != std::string::npos && answer != 200) {
        r.status = answer;
        r.body = "{}";
      }
      if (path.find("mypermissions") != std::string::npos && !permissions_body.empty()) r.body = permissions_body;
      return r;
    };
  }
  static Connection jira(const std::string& saved = "authorized") {
    Connection c;
    c.id = "j";
    c.name = "J";
    c.provider = "jira";
    c.server_url = "https://jira.example";
    c.auth = "api-key";
    c.username = "mia@example.com";
    c.api_key = "k";
    c.check_interval_s = 300;
    c.saved_status = saved;
    return c;
  }
  std::string status() {
    ConnectionHealth h;
    EXPECT_TRUE(monitor.health("j", h));
    return h.status;
  }
  ConnectionHealth health() {
    ConnectionHealth h;
    monitor.health("j", h);
    return h;
  }
  // Moves the clock to just before and just after a due time d ms away (jitter is +-10 %).
  bool checked_within(int64_t d) {
    size_t before = https.requests.size();
    clock.now_ms += d * 89 / 100;
    monitor.tick();
    if (https.requests.size() != before) return false;
    clock.now_ms += d * 22 / 100;
    monitor.tick();
    return https.requests.size() != before;
  }
  size_t monitor_log_lines() {
    size_t n = 0;
    for (const auto& l : log.lines()) n += l.find("monitor:") != std::string::npos;
    return n;
  }
};

TEST_F(MonitorTest, AuthorizedInterruptedAndBackByItselfWithBackoff) {
  monitor.sync({jira()}, /*at_startup=*/true);
  EXPECT_EQ(status(), "authorized");
  ASSERT_TRUE(checked_within(5000));  // soon after start-up
  EXPECT_EQ(status(), "authorized");
  EXPECT_EQ(monitor_log_lines(), 0u);

  answer = 503;
  ASSERT_TRUE(checked_within(300000));
  EXPECT_EQ(status(), "interrupted");
  EXPECT_NE(health().last_error.find("503"), std::string::npos);
  EXPECT_GT(health().next_check_s, health().last_check_s);
  // Retries after 10 s, 20 s, 40 s, ... never later than the interval.
  for (int64_t wait : {10000, 20000, 40000, 80000, 160000, 300000, 300000}) {
    ASSERT_TRUE(checked_within(wait)) << wait;
    EXPECT_EQ(status(), "interrupted");
  }
  EXPECT_EQ(monitor_log_lines(), 1u);  // the change was logged once, not on every retry
  answer = 200;
  ASSERT_TRUE(checked_within(300000));
  EXPECT_EQ(status(), "authorized");
  EXPECT_EQ(health().failures, 0);
  EXPECT_TRUE(health().last_error.empty());
  EXPECT_EQ(monitor_log_lines(), 2u);
}

TEST_F(MonitorTest, NotAuthorizedIsNotRetriedUntilTheSettingsChange) {
  monitor.sync({jira()}, true);
  answer = 401;
  ASSERT_TRUE(checked_within(5000));
  EXPECT_EQ(status(), "not-authorized");
  const size_t requests = https.requests.size();
  for (int i = 0; i < 100; ++i) {  // a day and more of ticks: no request at all
    clock.now_ms += 1000 * 1000;
    monitor.tick();
  }
  EXPECT_EQ(https.requests.size(), requests);
  // Re-syncing the same settings changes nothing; new settings are watched again.
  monitor.sync({jira()});
  clock.now_ms += 400000;
  monitor.tick();
  EXPECT_EQ(https.requests.size(), requests);
  Connection fixed = jira();
  fixed.api_key = "new key";
  answer = 200;
  monitor.sync({fixed});
  EXPECT_EQ(status(), "authorized");
  ASSERT_TRUE(checked_within(300000));
  EXPECT_EQ(status(), "authorized");
}

TEST_F(MonitorTest, UnwatchedStatusesAndRemovedConnections) {
  Connection off = jira();
  off.active = false;
  Connection unverified = jira("not-verified");
  unverified.id = "u";
  monitor.sync({off, unverified}, true);
  ConnectionHealth h;
  ASSERT_TRUE(monitor.health("j", h));
  EXPECT_EQ(h.status, "inactive");
  ASSERT_TRUE(monitor.health("u", h));
  EXPECT_EQ(h.status, "not-verified");
  clock.now_ms += 10 * 3600 * 1000;
  EXPECT_EQ(monitor.tick(), INT64_MAX);
  EXPECT_TRUE(https.requests.empty());
  monitor.sync({});
  EXPECT_FALSE(monitor.health("j", h));
}

// An import saves what it adds as not-verified, and a fleet cannot press Connect on every board:
// the monitor checks it soon after the import, and its status then follows the check.
TEST_F(MonitorTest, AnImportedConnectionIsCheckedSoonAndItsStatusFollowsTheCheck) {
  Connection imported = jira("not-verified");
  imported.imported = true;
  Connection second = imported;
  second.id = "refused";
  Connection no_secret = imported;  // the file could not carry its API key: nothing to check
  no_secret.id = "nokey";
  no_secret.api_key.clear();
  monitor.sync({imported, no_secret}, /*at_startup=*/false);  // as after an import's reload
  EXPECT_EQ(status(), "not-verified");
  ASSERT_TRUE(checked_within(5000));
  EXPECT_EQ(status(), "authorized");
  EXPECT_TRUE(health().last_ok);
  ASSERT_TRUE(checked_within(300000));  // and then as usual
  ConnectionHealth h;
  ASSERT_TRUE(monitor.health("nokey", h));
  EXPECT_EQ(h.status, "not-verified");
  EXPECT_EQ(h.last_check_s, 0);

  answer = 401;
  monitor.sync({second});
  clock.now_ms += 6000;
  monitor.tick();
  ASSERT_TRUE(monitor.health("refused", h));
  EXPECT_EQ(h.status, "not-authorized");
  const size_t requests = https.requests.size();
  clock.now_ms += 10 * 3600 * 1000;
  monitor.tick();
  EXPECT_EQ(https.requests.size(), requests);  // not retried, as for any refused connection
}

TEST_F(MonitorTest, ExpiredTokenIsNotAuthorizedAndASoonExpiringOneWarns) {
  Connection c = jira();
  c.token_expires = "2026-11-25";  // FakeClock's wall time is 2026-11-18
  monitor.sync({c}, true);
  ASSERT_TRUE(checked_within(5000));
  EXPECT_EQ(status(), "authorized");
  EXPECT_NE(health().warning.find("expires on 2026-11-25"), std::string::npos);
  c.token_expires = "2026-11-01";
  monitor.sync({c});
  ASSERT_TRUE(checked_within(300000));
  EXPECT_EQ(status(), "not-authorized");
  EXPECT_NE(health().last_error.find("expired"), std::string::npos);
}

// An answer of the wrong type threw out of tick() and ended the monitor thread with
// std::terminate a few seconds after every start. Now it is an interruption like any other:
// retried with backoff, logged once, and back to authorized when the tracker answers properly.
TEST_F(MonitorTest, AWrongTypeInAnAnswerIsAnInterruptionAndTheMonitorKeepsGoing) {
  monitor.sync({jira()}, true);
  permissions_body = R"({"permissions":{"BROWSE_PROJECTS":{"havePermission":"yes"}}})";
  ASSERT_NO_THROW(ASSERT_TRUE(checked_within(5000)));
  EXPECT_EQ(status(), "interrupted");
  EXPECT_NE(health().last_error.find("field permissions.BROWSE_PROJECTS.havePermission is a string"), std::string::npos)
      << health().last_error;
  ASSERT_NO_THROW(ASSERT_TRUE(checked_within(10000)));  // retried like a 5xx
  EXPECT_EQ(status(), "interrupted");
  EXPECT_EQ(monitor_log_lines(), 1u);
  permissions_body.clear();
  ASSERT_TRUE(checked_within(20000));
  EXPECT_EQ(status(), "authorized");
}

}  // namespace
}  // namespace tracklight::firmware
