// The board poller against the fake trackers over real TLS, on a fake clock: what each
// provider's board holds, paging, the number of upstream requests per poll, rate limits
// (429 + Retry-After, X-RateLimit-* on a 200), refused credentials without a retry storm, and
// the on-disk cache across a restart.
#include <gtest/gtest.h>

#include "firmware/board/board_fetch.hpp"
#include "firmware/board/board_poller.hpp"
#include "platform/fs.hpp"
#include "tests/integration/tracker_fixture.hpp"

namespace tracklight::test {
namespace {

using firmware::BoardPoller;
using firmware::BoardSource;
using firmware::Connection;
using nlohmann::json;

struct BoardTest : TrackerTest {
  FakeClock fake_clock;
  platform::MbedtlsConnector fake_time_https{fake_clock};  // deadlines on the same clock as the poller
  platform::PosixFs fs;
  platform::MemoryLogger log;
  std::unique_ptr<BoardPoller> poller;

  void start(const std::vector<Connection>& conns) {
    poller = std::make_unique<BoardPoller>(fake_clock, fake_time_https, fs, log, tmp.path() + "/board-cache.json", 15000);
    poller->load_cache();
    poller->sync(conns);
  }
  // Advances the clock and runs what is due; returns the one source.
  BoardSource step(int64_t ms) {
    fake_clock.now_ms += ms;
    fake_clock.wall_s += ms / 1000;
    poller->tick();
    auto all = poller->sources();
    return all.empty() ? BoardSource{} : all.front();
  }
  static Connection with_board(Connection c) {
    c.board.enabled = true;
    c.saved_status = "authorized";
    return c;
  }
  // The request target as the tracker decodes it (form rules: %XX, and + for a space). The HTTP
  // client may re-encode what the agent built ("%2F" and "/" are the same in a query).
  static std::string decoded(const std::string& target) {
    std::string out;
    for (size_t i = 0; i < target.size(); ++i) {
      if (target[i] == '+') {
        out += ' ';
      } else if (target[i] == '%' && i + 2 < target.size() && std::isxdigit(static_cast<unsigned char>(target[i + 1])) &&
                 std::isxdigit(static_cast<unsigned char>(target[i + 2]))) {
        out += static_cast<char>(std::stoi(target.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        out += target[i];
      }
    }
    return out;
  }
  static size_t count(const FakeTracker& f, const std::string& decoded_part) {
    size_t n = 0;
    for (const auto& r : f.requests()) n += decoded(r["path"].get<std::string>()).find(decoded_part) != std::string::npos;
    return n;
  }
  static const json* tile(const BoardSource& s, const std::string& name) {
    for (const auto& t : s.data["pipelines"])
      if (t["name"] == name) return &t;
    return nullptr;
  }
};

TEST_F(BoardTest, AzureDevOpsLatestBuildPerPipelineInOneRequestPerPoll) {
  FakeTracker fake(tmp.path(), ado());
  Connection c = with_board(azure(fake.port()));
  c.project = "Fiber";
  start({c});
  BoardSource s = step(2000);
  ASSERT_FALSE(s.stale) << s.reason;
  ASSERT_EQ(s.data["pipelines"].size(), 3u) << s.data.dump();
  EXPECT_EQ(s.data["pipelines"][0]["name"], "CI");  // sorted by name: CI, Deploy, Nightly
  const json* deploy = tile(s, "Deploy");
  ASSERT_TRUE(deploy);
  EXPECT_EQ((*deploy)["state"], "in-progress");
  EXPECT_EQ((*deploy)["last_result"], "succeeded");  // the finished build behind the running one
  EXPECT_EQ((*deploy)["build_number"], "20261125.4");
  EXPECT_EQ((*deploy)["branch"], "main");
  EXPECT_EQ((*deploy)["requested_by"], "Mia Krystof");
  const json* nightly = tile(s, "Nightly");
  EXPECT_EQ((*nightly)["state"], "failed");
  EXPECT_EQ((*nightly)["finished_at"], "2026-11-25T08:01:50Z");
  EXPECT_NE((*nightly)["url"].get<std::string>().find("/_build/results?buildId="), std::string::npos);
  EXPECT_EQ(count(fake, "/_apis/build/builds"), 1u);
  for (int i = 0; i < 5; ++i) step(61000);  // one poll per interval (60 s, jittered)
  const size_t polls = count(fake, "/_apis/build/builds");
  EXPECT_GE(polls, 5u);
  EXPECT_LE(polls, 6u);
  EXPECT_EQ(fake.requests().size(), polls) << "one request per project per poll, nothing per pipeline";
  for (const auto& req : fake.requests())  // a refused PAT answers 401, not a sign-in redirect
    EXPECT_EQ(req["custom"].value("X-TFS-FedAuthRedirect", ""), "Suppress") << req["path"];
}

TEST_F(BoardTest, AzureDevOpsPagesFiltersByNameAndBranch) {
  json s = ado();
  s["pipelines"] = 7;
  s["page_size"] = 3;
  FakeTracker fake(tmp.path(), s);
  Connection c = with_board(azure(fake.port()));
  c.project = "Fiber";
  start({c});
  BoardSource all = step(2000);
  ASSERT_FALSE(all.stale) << all.reason;
  EXPECT_EQ(all.data["pipelines"].size(), 7u);
  EXPECT_EQ(count(fake, "/_apis/build/builds"), 3u);  // 9 builds in pages of 3
  EXPECT_EQ(count(fake, "continuationToken=3"), 1u);

  c.board.pipelines = {"Nightly", "CI"};
  c.board.branch = "release/2";
  s["builds"] = {{{"definition", "CI"}, {"status", "completed"}, {"result", "succeeded"}, {"number", "9"},
                  {"branch", "refs/heads/release/2"}},
                 {{"definition", "Nightly"}, {"status", "completed"}, {"result", "canceled"}, {"number", "8"},
                  {"branch", "refs/heads/release/2"}},
                 {{"definition", "CI"}, {"status", "completed"}, {"result", "failed"}, {"number", "7"}},
                 {{"definition", "Other"}, {"status", "completed"}, {"result", "failed"}, {"number", "6"},
                  {"branch", "refs/heads/release/2"}}};
  fake.set(s);
  poller->sync({c});
  BoardSource filtered = step(2000);
  ASSERT_EQ(filtered.data["pipelines"].size(), 2u) << filtered.data.dump();
  EXPECT_EQ(filtered.data["pipelines"][0]["name"], "Nightly");  // the order the person chose
  EXPECT_EQ(filtered.data["pipelines"][0]["state"], "canceled");
  EXPECT_EQ(filtered.data["pipelines"][1]["build_number"], "9");
  EXPECT_EQ(count(fake, "branchName=refs/heads/release/2"), 1u);
}

TEST_F(BoardTest, JiraCloudPagesWithNextPageTokenAndCountsPerCategory) {
  json s = jira_cloud();
  s["issues"] = 230;
  FakeTracker fake(tmp.path(), s);
  Connection c = with_board(jira(fake.port()));
  c.board.jql = "project = TL ORDER BY priority DESC";
  c.board.max_issues = 5;
  start({c});
  BoardSource b = step(2000);
  ASSERT_FALSE(b.stale) << b.reason;
  const json& j = b.data["jira"];
  EXPECT_EQ(j["total"], 230);
  EXPECT_EQ(j["complete"], true);
  EXPECT_EQ(j["counts"]["new"], 77);
  EXPECT_EQ(j["counts"]["indeterminate"], 77);
  EXPECT_EQ(j["counts"]["done"], 76);
  ASSERT_EQ(j["issues"].size(), 5u);
  EXPECT_EQ(j["issues"][0]["key"], "TL-1");
  EXPECT_EQ(j["issues"][0]["summary"], "Issue number 1 of the fake");
  EXPECT_EQ(j["issues"][1]["category"], "indeterminate");
  EXPECT_EQ(j["issues"][1]["assignee"], "Jon Berg");
  EXPECT_EQ(j["issues"][0]["url"], c.server_url + "/browse/TL-1");
  EXPECT_EQ(count(fake, "/rest/api/3/search/jql"), 3u);  // 100 + 100 + 30
  EXPECT_EQ(count(fake, "nextPageToken=tok-200"), 1u);
  EXPECT_EQ(count(fake, "/rest/api/2/search"), 0u) << "Cloud answers the old search with 410";
  EXPECT_EQ(count(fake, "fields=summary,status,assignee,priority"), 3u);
}

TEST_F(BoardTest, JiraDataCenterIsLearntOnceAndPagesWithStartAt) {
  json s = {{"personality", "jira-dc"}, {"expected_authorization", platform::basic_auth_value(kEmail, kToken)}, {"issues", 120}};
  FakeTracker fake(tmp.path(), s);
  Connection c = with_board(jira(fake.port()));
  c.auth = "password";
  c.password = kToken;
  c.api_key.clear();
  start({c});
  BoardSource b = step(2000);
  ASSERT_FALSE(b.stale) << b.reason;
  EXPECT_EQ(b.data["jira"]["total"], 120);
  EXPECT_EQ(b.data["jira"]["jql"], firmware::kDefaultJql);  // bounded, as Cloud requires
  EXPECT_EQ(count(fake, "/rest/api/3/search/jql"), 1u);     // 404 on Data Center: learnt
  EXPECT_EQ(count(fake, "/rest/api/2/search"), 2u);         // startAt 0 and 100
  EXPECT_EQ(count(fake, "startAt=100"), 1u);
  step(61000);
  EXPECT_EQ(count(fake, "/rest/api/3/search/jql"), 1u) << "the flavour is remembered";
  EXPECT_EQ(count(fake, "/rest/api/2/search"), 4u);
}

TEST_F(BoardTest, RetryAfterOn429IsHonouredAndTheBoardKeepsItsLastData) {
  FakeTracker fake(tmp.path(), jira_cloud());
  start({with_board(jira(fake.port()))});
  ASSERT_FALSE(step(2000).stale);
  json s = jira_cloud();
  s["board_status"] = 429;
  s["board_headers"] = {{"Retry-After", "300"}, {"X-RateLimit-Limit", "100"}, {"X-RateLimit-Remaining", "0"}};
  fake.set(s);
  BoardSource b = step(61000);
  EXPECT_TRUE(b.stale);
  EXPECT_NE(b.reason.find("rate-limiting"), std::string::npos) << b.reason;
  EXPECT_EQ(b.data["jira"]["total"], 7) << "the last good data stays on the board";
  const size_t after_429 = fake.requests().size();
  for (int i = 0; i < 29; ++i) step(10000);  // 290 s: still inside Retry-After
  EXPECT_EQ(fake.requests().size(), after_429) << "a request was sent before Retry-After ran out";
  fake.set(jira_cloud());
  b = step(11000);
  EXPECT_EQ(fake.requests().size(), after_429 + 1);
  EXPECT_FALSE(b.stale) << b.reason;
}

TEST_F(BoardTest, AzureDevOpsRateHeadersOnA200SlowThePolling) {
  // Azure DevOps delays with a 200 and Retry-After: nothing is sent before it runs out.
  json s = ado();
  s["board_headers"] = {{"X-RateLimit-Resource", "Core"}, {"X-RateLimit-Delay", "0.5"}, {"Retry-After", "150"}};
  FakeTracker fake(tmp.path(), s);
  Connection c = with_board(azure(fake.port()));
  c.project = "Fiber";
  start({c});
  EXPECT_FALSE(step(2000).stale);
  for (int i = 0; i < 14; ++i) step(10000);  // 140 s: the 60 s interval alone would have polled twice
  EXPECT_EQ(count(fake, "/_apis/build/builds"), 1u);
  // A nearly spent budget (under a fifth left) doubles the interval instead.
  s["board_headers"] = {{"X-RateLimit-Limit", "200"}, {"X-RateLimit-Remaining", "12"}};
  fake.set(s);
  step(20000);
  EXPECT_EQ(count(fake, "/_apis/build/builds"), 2u);
  for (int i = 0; i < 10; ++i) step(10000);  // 100 s: under the doubled interval (120 s, jittered)
  EXPECT_EQ(count(fake, "/_apis/build/builds"), 2u);
  step(40000);
  EXPECT_EQ(count(fake, "/_apis/build/builds"), 3u);
}

TEST_F(BoardTest, RefusedCredentialsStopPollingUntilTheSettingsChange) {
  json s = jira_cloud();
  s["expected_authorization"] = "Basic revoked";
  FakeTracker fake(tmp.path(), s);
  Connection c = with_board(jira(fake.port()));
  start({c});
  BoardSource b = step(2000);
  EXPECT_TRUE(b.stale);
  EXPECT_NE(b.reason.find("HTTP 401"), std::string::npos) << b.reason;
  EXPECT_EQ(b.reason.find(kToken), std::string::npos);
  const size_t refused = fake.requests().size();
  for (int i = 0; i < 50; ++i) step(600000);
  EXPECT_EQ(fake.requests().size(), refused) << "a refused credential was retried";
  fake.set(jira_cloud());
  c.api_key = kToken;  // unchanged token, but the person saved the settings again
  c.board.max_issues = 3;
  poller->sync({c});
  EXPECT_FALSE(step(2000).stale);
}

TEST_F(BoardTest, RejectedJqlAndUnknownProjectWaitForNewSettings) {
  json s = jira_cloud();
  s["jql_error"] = true;
  FakeTracker fake(tmp.path(), s);
  Connection c = with_board(jira(fake.port()));
  c.board.jql = "project = %";
  start({c});
  BoardSource b = step(2000);
  EXPECT_TRUE(b.stale);
  EXPECT_NE(b.reason.find("refused the JQL query"), std::string::npos) << b.reason;
  const size_t sent = fake.requests().size();
  for (int i = 0; i < 12; ++i) step(300000);  // an hour
  EXPECT_EQ(fake.requests().size(), sent) << "a query Jira rejects was sent again";
  fake.set(jira_cloud());
  c.board.jql = "project = TL";
  poller->sync({c});
  EXPECT_FALSE(step(2000).stale);

  FakeTracker azure_fake(tmp.path(), ado(), "noip");
  Connection a = with_board(azure(azure_fake.port()));
  a.project = "Gone";
  poller->sync({a});
  b = step(2000);
  EXPECT_NE(b.reason.find("the project 'Gone' does not exist"), std::string::npos) << b.reason;
  const size_t ado_sent = azure_fake.requests().size();
  for (int i = 0; i < 12; ++i) step(300000);
  EXPECT_EQ(azure_fake.requests().size(), ado_sent);
}

TEST_F(BoardTest, CacheSurvivesARestartAndIsMarkedStaleUntilFreshData) {
  Connection c;
  {
    FakeTracker fake(tmp.path(), ado());
    c = with_board(azure(fake.port()));
    c.project = "Fiber";
    start({c});
    ASSERT_FALSE(step(2000).stale);
    poller.reset();
  }  // the fake is gone: after the "reboot" the tracker cannot be reached
  std::string cache = read_text(tmp.path() + "/board-cache.json");
  EXPECT_NE(cache.find("Nightly"), std::string::npos);
  EXPECT_EQ(cache.find(kPat), std::string::npos);
  start({c});
  BoardSource before = poller->sources().front();
  EXPECT_TRUE(before.stale);
  EXPECT_NE(before.reason.find("before the agent started"), std::string::npos);
  EXPECT_EQ(before.data["pipelines"].size(), 3u);
  EXPECT_GT(before.fetched_at_s, 0);
  BoardSource failed = step(2000);
  EXPECT_TRUE(failed.stale);
  EXPECT_NE(failed.reason.find("cannot reach localhost"), std::string::npos) << failed.reason;
  EXPECT_EQ(failed.data["pipelines"].size(), 3u);
  EXPECT_EQ(failed.fetched_at_s, before.fetched_at_s);
}

}  // namespace
}  // namespace tracklight::test
