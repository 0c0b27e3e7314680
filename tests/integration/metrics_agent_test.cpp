// GET /metrics from the real binary, read with Prometheus' own text parser
// (tests/integration/parse_metrics.py on Debian's python3-prometheus-client): it parses, every
// family has HELP and TYPE, the values are those /api/v1/status and /api/v1/board show, no
// secret or user text is in it, and the counters move with the requests made.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <thread>

#include "tests/integration/tracker_fixture.hpp"

namespace tracklight::test {
namespace {

using nlohmann::json;

struct MetricsAgentTest : TrackerTest {
  std::string state = tmp.path() + "/state";
  int scrapes = 0;

  // The scrape as the parser read it: {"name", "labels", "value"} per sample; null when the
  // parser refused it (its complaint is on stderr).
  json parse(const std::string& text) {
    const std::string path = tmp.path() + "/metrics-" + std::to_string(++scrapes) + ".txt";
    std::ofstream(path, std::ios::binary) << text;
    // Debian's package installs the parser for Debian's own interpreter.
    const std::string cmd = "/usr/bin/python3 " + std::string(TRACKLIGHT_SOURCE_DIR) +
                            "/tests/integration/parse_metrics.py " + path;
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    size_t n;
    while (p && (n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int rc = p ? pclose(p) : -1;
    return rc == 0 ? json::parse(out) : json();
  }
  // The value of the sample `name` whose labels include `labels`; -1 when there is none.
  static double value(const json& samples, const std::string& name, const json& labels) {
    for (const auto& s : samples) {
      if (s["name"] != name) continue;
      bool all = true;
      for (const auto& [k, v] : labels.items()) all = all && s["labels"].contains(k) && s["labels"][k] == v;
      if (all) return s["value"].get<double>();
    }
    return -1;
  }
  // Scrapes until `ready` holds (at most 30 s); returns the last scrape, parsed.
  json scrape_until(ApiClient& c, const std::function<bool(const json&)>& ready, std::string* text = nullptr) {
    json samples;
    for (int i = 0; i < 300; ++i) {
      auto r = c.send("GET", "/metrics");
      if (r && r->status == 200) {
        samples = parse(r->body);
        if (text) *text = r->body;
        if (samples.is_null() || ready(samples)) return samples;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return samples;
  }
};

TEST_F(MetricsAgentTest, PrometheusReadsItAndItMatchesStatusAndBoard) {
  json scenario = jira_cloud();
  FakeTracker fake(tmp.path(), scenario, "good");
  ASSERT_GT(fake.port(), 0);
  AgentProcess agent(state);
  ASSERT_TRUE(agent.start()) << agent.log();
  ApiClient c(agent.port());
  ASSERT_TRUE(c.setup(setup_code_of(state), "correct horse battery"));
  const json jira = {{"name", "Team \"Jira\" \\ ops"}, {"provider", "jira"},
                     {"server_url", "https://localhost:" + std::to_string(fake.port())}, {"auth", "api-key"},
                     {"username", kEmail}, {"api_key", kToken}, {"ca_cert", test_ca_pem()},
                     {"token_expires", "2099-12-31"}, {"check_interval_s", 10},
                     {"headers", json::array({{{"name", "X-Team-Secret"}, {"value", "CANARY-HEADER-9d2e"}}})},
                     {"board", {{"enabled", true}, {"interval_s", 15}, {"jql", "project = TL"}}}};
  auto put = c.send("PUT", "/api/v1/connections/jira", jira.dump());
  ASSERT_EQ(put->status, 200) << put->body;

  // The board's first poll (at once) and the monitor's first check (after the 10 s interval).
  const json id = {{"id", "jira"}, {"provider", "jira"}};
  std::string text;
  json m = scrape_until(c, [&](const json& s) {
    return value(s, "tracklight_upstream_requests_total", {{"id", "jira"}, {"source", "check"}}) > 0 &&
           value(s, "tracklight_board_stale", id) == 0;
  }, &text);
  ASSERT_FALSE(m.is_null()) << "Prometheus' parser refused it:\n" << text;
  ASSERT_GT(value(m, "tracklight_upstream_requests_total", {{"id", "jira"}, {"source", "check"}}), 0) << text;

  // The values /api/v1/status and /api/v1/board give, read right after.
  const json status = json::parse(c.send("GET", "/api/v1/status")->body)["connections"][0];
  const json board = json::parse(c.send("GET", "/api/v1/board")->body)["sources"][0];
  for (const char* st : {"authorized", "interrupted", "not-authorized", "not-verified", "inactive"})
    EXPECT_EQ(value(m, "tracklight_connection_status", {{"id", "jira"}, {"status", st}}), status["status"] == st ? 1 : 0)
        << st;
  EXPECT_EQ(status["status"], "authorized");
  ASSERT_TRUE(status["last_check"].is_string());
  const double age = value(m, "tracklight_connection_last_check_age_seconds", id);
  EXPECT_GE(age, 0);
  EXPECT_LE(age, 12) << "checked every 10 s";
  EXPECT_EQ(value(m, "tracklight_connection_last_check_ok", id), status["last_error"].is_null() ? 1 : 0);
  EXPECT_GT(value(m, "tracklight_connection_token_expiry_seconds", id), 70.0 * 365 * 86400);
  EXPECT_EQ(value(m, "tracklight_board_stale", id), board["stale"] ? 1 : 0);
  EXPECT_GE(value(m, "tracklight_board_last_fetch_age_seconds", id), 0);
  EXPECT_LE(value(m, "tracklight_board_last_fetch_age_seconds", id), 16);
  EXPECT_GE(value(m, "tracklight_upstream_requests_total", {{"id", "jira"}, {"source", "board"}}), 1);
  EXPECT_EQ(value(m, "tracklight_build_info", json::object()), 1);

  // Nothing a person typed, and no secret.
  for (const char* leak : {kToken, kEmail, "CANARY", "Team", "X-Team-Secret", "project = TL", "localhost", "BEGIN"})
    EXPECT_EQ(text.find(leak), std::string::npos) << leak << "\n" << text;

  // The tracker fails the board's search: the next poll (15 s) counts a 5xx, and the board is stale.
  scenario["board_status"] = 503;
  fake.set(scenario);
  const double healthz = std::max(0.0, value(m, "tracklight_http_requests_total", {{"route", "healthz"}, {"code", "200"}}));
  ASSERT_EQ(c.send("GET", "/healthz")->status, 200);
  m = scrape_until(c, [&](const json& s) {
    return value(s, "tracklight_upstream_failures_total", {{"id", "jira"}, {"source", "board"}, {"kind", "http_5xx"}}) > 0;
  }, &text);
  ASSERT_FALSE(m.is_null()) << text;
  EXPECT_EQ(value(m, "tracklight_upstream_failures_total", {{"id", "jira"}, {"source", "board"}, {"kind", "http_5xx"}}), 1)
      << text;
  EXPECT_EQ(value(m, "tracklight_board_stale", id), 1);
  EXPECT_EQ(value(m, "tracklight_http_requests_total", {{"route", "healthz"}, {"code", "200"}}), healthz + 1);
  EXPECT_GT(value(m, "tracklight_http_requests_total", {{"route", "metrics"}, {"code", "200"}}), 1);
  EXPECT_EQ(agent.log().find(kToken), std::string::npos);
}

}  // namespace
}  // namespace tracklight::test
