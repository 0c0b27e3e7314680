// Trackers and proxies that answer without end (issue 8, item 11.1): the Test, the proxy
// CONNECT and the board poll each end within their deadline, name the cap or the phase, and
// leave this process's memory where it was. Real TLS on 127.0.0.1 against hostile_tls.py.
#include <gtest/gtest.h>

#include <chrono>

#include "firmware/board/board_fetch.hpp"
#include "tests/integration/hostile_server.hpp"
#include "tests/integration/tracker_fixture.hpp"

namespace tracklight::test {
namespace {

using firmware::Connection;
using firmware::Report;

constexpr int64_t kDeadlineMs = 2000;
constexpr int64_t kSlackMs = 1500;  // process start-up, ASan, a loaded machine
// Per case: ASan keeps freed memory in quarantine, so each Test's parse of the system CA bundle
// shows as a few MB that a release build gives back; without the caps a case takes gigabytes.
constexpr long kRssBudgetKib = 20 * 1024;

struct Hostile {
  const char* mode;
  const char* expect;  // in the failed check's message
};

const firmware::Check* failed_check(const Report& r) {
  for (const auto& c : r.checks)
    if (c.result == "fail") return &c;
  return nullptr;
}

int64_t ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
}

TEST_F(TrackerTest, HostileAnswersEndWithinTheDeadlineNamingTheCapOrPhase) {
  const Hostile cases[] = {
      {"endless-headers", "to GET /rest/api/2/serverInfo has more than 100 header lines"},
      {"endless-header-line", "has a header line longer than 8 KiB"},
      {"endless-status", "has a status line longer than 8 KiB"},
      {"many-headers", "has more than 100 header lines"},
      {"endless-continue", "has more than 64 KiB of headers"},
      {"endless-chunk-line", "has a chunk-size line longer than 8 KiB"},
      {"drip", "timed out reading the headers of the answer to GET /rest/api/2/serverInfo from localhost"},
  };
  for (const auto& k : cases) {
    const long rss_before = rss_kib();
    HostileServer server(k.mode);
    ASSERT_GT(server.port(), 0) << k.mode;
    const auto t0 = std::chrono::steady_clock::now();
    Report r = test(jira(server.port()), kDeadlineMs);
    const int64_t took = ms_since(t0);
    const firmware::Check* fail = failed_check(r);
    ASSERT_NE(fail, nullptr) << k.mode << dump(r);
    EXPECT_EQ(fail->id, "server") << k.mode;
    EXPECT_NE(fail->message.find(k.expect), std::string::npos) << k.mode << ": " << fail->message;
    EXPECT_EQ(r.status, "interrupted") << k.mode;
    EXPECT_LT(took, kDeadlineMs + kSlackMs) << k.mode;
    EXPECT_LT(rss_kib() - rss_before, kRssBudgetKib) << k.mode;
  }
}

TEST_F(TrackerTest, HostileProxyAnswerToConnectEndsWithinTheDeadline) {
  const Hostile cases[] = {
      {"endless-headers", "the answer from the proxy 127.0.0.1 to CONNECT localhost:"},
      {"endless-status", "has a status line longer than 8 KiB"},
      {"drip", "timed out reading the headers of the answer to CONNECT localhost:"},
  };
  for (const auto& k : cases) {
    const long rss_before = rss_kib();
    HostileServer proxy(k.mode, true);
    ASSERT_GT(proxy.port(), 0) << k.mode;
    Connection c = jira(443);
    c.proxy_url = "http://127.0.0.1:" + std::to_string(proxy.port());
    const auto t0 = std::chrono::steady_clock::now();
    Report r = test(c, kDeadlineMs);
    const int64_t took = ms_since(t0);
    const firmware::Check* fail = failed_check(r);
    ASSERT_NE(fail, nullptr) << k.mode << dump(r);
    EXPECT_EQ(fail->id, "tcp") << k.mode << dump(r);
    EXPECT_NE(fail->message.find(k.expect), std::string::npos) << k.mode << ": " << fail->message;
    EXPECT_NE(fail->hint.find("proxy"), std::string::npos) << k.mode << ": " << fail->hint;
    EXPECT_LT(took, kDeadlineMs + kSlackMs) << k.mode;
    EXPECT_LT(rss_kib() - rss_before, kRssBudgetKib) << k.mode;
  }
}

// The board poll uses the same connector on every interval: each poll ends the same way.
TEST_F(TrackerTest, BoardPollOfAHostileTrackerEndsWithinTheDeadline) {
  const Hostile cases[] = {
      {"endless-headers", "has more than 100 header lines"},
      {"drip", "timed out reading the headers of the answer to GET /rest/api/3/search/jql from localhost"},
  };
  for (const auto& k : cases) {
    const long rss_before = rss_kib();
    HostileServer server(k.mode);
    ASSERT_GT(server.port(), 0) << k.mode;
    Connection c = jira(server.port());
    c.board.enabled = true;
    firmware::TrackerEnv env{clock, https, kDeadlineMs};
    for (int poll = 0; poll < 2; ++poll) {
      std::string flavour;
      const auto t0 = std::chrono::steady_clock::now();
      firmware::BoardFetch f = firmware::fetch_board(c, env, flavour);
      const int64_t took = ms_since(t0);
      EXPECT_FALSE(f.ok) << k.mode;
      EXPECT_NE(f.error.find(k.expect), std::string::npos) << k.mode << ": " << f.error;
      EXPECT_LT(took, kDeadlineMs + kSlackMs) << k.mode;
    }
    EXPECT_LT(rss_kib() - rss_before, kRssBudgetKib) << k.mode;
  }
}

}  // namespace
}  // namespace tracklight::test
