// GET /metrics called through the router on in-memory fakes: who may read it (the board's
// rule), that no secret or user text leaks into it, that its values are those of
// /api/v1/status and /api/v1/board, and that the counters move. The text format itself is
// checked with Prometheus' own parser in tests/integration/metrics_agent_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "firmware/metrics/http_counts.hpp"
#include "firmware/metrics/prometheus_text.hpp"
#include "firmware/metrics/upstream_counts.hpp"
#include "firmware/web/connection_json.hpp"
#include "tests/unit/api_fixture.hpp"

namespace tracklight::firmware {
namespace {

// The value of the sample written exactly as `series` (name and labels), or NaN when absent.
double value_of(const std::string& text, const std::string& series) {
  const std::string start = series + " ";
  size_t at = text.find("\n" + start);
  if (at == std::string::npos) return NAN;
  at += 1;
  return std::stod(text.substr(at + start.size(), text.find('\n', at) - at - start.size()));
}

std::string labels(const std::string& id, const std::string& provider) {
  return "{id=\"" + id + "\",provider=\"" + provider + "\"}";
}

struct MetricsTest : ApiTest {
  HttpRequest local_get(const std::string& path) {
    HttpRequest r;
    r.method = "GET";
    r.path = path;
    r.remote_addr = "127.0.0.1";
    r.headers = {{"Host", "127.0.0.1:8080"}};
    return r;
  }
  std::string scrape() {
    HttpResponse r = agent->handle(local_get("/metrics"));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body;
  }
  double upstream(const std::string& text, const std::string& source, const std::string& kind = "") {
    const std::string common = "{id=\"jira\",provider=\"jira\",source=\"" + source + "\"";
    if (kind.empty()) return value_of(text, "tracklight_upstream_requests_total" + common + "}");
    return value_of(text, "tracklight_upstream_failures_total" + common + ",kind=\"" + kind + "\"}");
  }
};

TEST(MetricsText, EscapesLabelValuesAndWritesHelpAndType) {
  EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  MetricsText m;
  m.family("x_total", "counter", "Line with \\ and\nnewline.");
  m.sample("x_total", {{"k", "v\"1"}, {"j", "2"}}, "3");
  m.sample("x_total", {}, "4");
  EXPECT_EQ(m.text(),
            "# HELP x_total Line with \\\\ and\\nnewline.\n# TYPE x_total counter\n"
            "x_total{k=\"v\\\"1\",j=\"2\"} 3\nx_total 4\n");
}

TEST(HttpCounts, CountsEveryPairExactlyAcrossThreads) {
  HttpCounts counts;
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t)
    workers.emplace_back([&counts] {
      for (int i = 0; i < 1000; ++i) counts.count(i % 2 ? RouteClass::Api : RouteClass::Board, 200 + (i % 3));
    });
  for (auto& w : workers) w.join();
  uint64_t total = 0;
  auto samples = counts.samples();
  EXPECT_EQ(samples.size(), 6u);
  for (const auto& s : samples) total += s.count;
  EXPECT_EQ(total, 4000u);
}

TEST(UpstreamCounts, FailureKindsFollowTheTransportAndTheStatus) {
  EXPECT_STREQ(upstream_failure_name(upstream_failure_of(ErrorCode::DnsFailed)), "dns");
  EXPECT_STREQ(upstream_failure_name(upstream_failure_of(ErrorCode::ProxyAuthRequired)), "connect");
  EXPECT_STREQ(upstream_failure_name(upstream_failure_of(ErrorCode::CertExpired)), "tls");
  EXPECT_STREQ(upstream_failure_name(upstream_failure_of(ErrorCode::Timeout)), "timeout");
  EXPECT_STREQ(upstream_failure_name(upstream_failure_of(ErrorCode::ResponseTooLarge)), "bad_answer");
  UpstreamFailure f;
  EXPECT_FALSE(upstream_failure_of(200, f));
  EXPECT_FALSE(upstream_failure_of(204, f));
  const std::pair<int, const char*> kinds[] = {{203, "refused"}, {302, "redirect"}, {401, "refused"}, {403, "refused"},
                                               {404, "http_4xx"}, {410, "http_4xx"}, {429, "rate_limited"}, {503, "http_5xx"}};
  for (const auto& [status, kind] : kinds) {
    ASSERT_TRUE(upstream_failure_of(status, f)) << status;
    EXPECT_STREQ(upstream_failure_name(f), kind) << status;
  }
}

// The board's rule, as BoardKeyOpensTheBoardAndNothingElse checks it for the board's routes.
TEST_F(MetricsTest, OpenToLoopbackASessionOrTheBoardKeyOnly) {
  set_up_admin();
  auto rotated = call("POST", "/api/v1/board/key", "{}");
  ASSERT_EQ(rotated.status, 200);
  const std::string key = body_of(rotated)["key"];
  EXPECT_EQ(call("GET", "/metrics").status, 200) << "a logged-in session";
  cookie.clear();
  csrf.clear();  // a Prometheus server elsewhere on the network
  auto none = call("GET", "/metrics");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(code_of(none), "board_key_required");
  EXPECT_EQ(code_of(call("GET", "/metrics?key=" + key + "0")), "board_key_invalid");
  auto keyed = call("GET", "/metrics?key=" + key);
  EXPECT_EQ(keyed.status, 200);
  EXPECT_EQ(keyed.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(header_of(keyed, "Cache-Control"), "no-store") << "the key is in the URL";
  EXPECT_EQ(call("POST", "/metrics?key=" + key, "{}").status, 405);
  for (const char* addr : {"127.0.0.1", "::1"}) {
    HttpRequest local = local_get("/metrics");
    local.remote_addr = addr;
    EXPECT_EQ(agent->handle(local).status, 200) << addr;
  }
}

TEST_F(MetricsTest, NoSecretNorUserTextAppears) {
  set_up_admin();
  json j = jira_body();
  j["name"] = "Team \"Jira\" \\ with text";
  j["token_expires"] = "2027-03-31";
  j["proxy_url"] = "http://proxy.example:3128";
  j["proxy_username"] = "proxy-user";
  j["proxy_password"] = "CANARY-PROXY-PASSWORD";
  ASSERT_EQ(call("PUT", "/api/v1/connections/jira", j.dump()).status, 200);
  clock.now_ms += 2000;
  agent->board().tick();  // the board fails (the fake has no search): its reason holds the JQL
  const std::string text = scrape();
  EXPECT_NE(text.find("tracklight_board_stale" + labels("jira", "jira") + " 1"), std::string::npos) << text;
  for (const char* leak : {"CANARY", "Team", "with text", "example.atlassian.net", "proxy", "mia@example.com",
                           "project = OPS", "OPS", "X-Service-Token", "search", "HTTP 404"})
    EXPECT_EQ(text.find(leak), std::string::npos) << leak << "\n" << text;
}

TEST_F(MetricsTest, ValuesAreThoseOfStatusAndBoard) {
  set_up_admin();
  json j = jira_body();
  j["token_expires"] = "2026-11-30";  // the fake clock says 2026-11-18 11:06:40 UTC
  ASSERT_EQ(call("PUT", "/api/v1/connections/jira", j.dump()).status, 200);
  json ado = {{"name", "ADO"}, {"provider", "azure-devops"}, {"server_url", "https://dev.azure.com/org"},
              {"auth", "pat"}, {"token", "CANARY-PAT"}, {"project", "P"}};
  ASSERT_EQ(call("PUT", "/api/v1/connections/ado?verify=false", ado.dump()).status, 200);
  clock.now_ms += 90000;
  clock.wall_s += 90;
  agent->board().tick();
  const std::string text = scrape();
  const json status = body_of(call("GET", "/api/v1/status"));
  ASSERT_EQ(status["connections"].size(), 2u);
  for (const auto& c : status["connections"]) {
    const std::string id = c["id"], provider = c["provider"];
    for (const char* st : {"authorized", "interrupted", "not-authorized", "not-verified", "inactive"})
      EXPECT_EQ(value_of(text, "tracklight_connection_status{id=\"" + id + "\",provider=\"" + provider +
                                   "\",status=\"" + st + "\"}"),
                c["status"] == st ? 1 : 0)
          << id << " " << st << "\n" << text;
    const double age = value_of(text, "tracklight_connection_last_check_age_seconds" + labels(id, provider));
    const double ok = value_of(text, "tracklight_connection_last_check_ok" + labels(id, provider));
    if (c["last_check"].is_null()) {
      EXPECT_TRUE(std::isnan(age) && std::isnan(ok)) << id << "\n" << text;
    } else {
      EXPECT_EQ(c["last_check"], iso_time(clock.wall_s - static_cast<int64_t>(age))) << text;
      EXPECT_EQ(ok, c["last_error"].is_null() ? 1 : 0);
    }
  }
  EXPECT_EQ(value_of(text, "tracklight_connection_last_check_age_seconds" + labels("jira", "jira")), 90);
  EXPECT_EQ(value_of(text, "tracklight_connection_last_check_ok" + labels("jira", "jira")), 1);
  // Good through 2026-11-30: until 2026-12-01T00:00:00Z.
  EXPECT_EQ(value_of(text, "tracklight_connection_token_expiry_seconds" + labels("jira", "jira")),
            1796083200 - clock.wall_s);
  EXPECT_TRUE(std::isnan(value_of(text, "tracklight_connection_token_expiry_seconds" + labels("ado", "azure-devops"))));

  // The board: only the connection whose board is on, stale as /api/v1/board says.
  const json board = body_of(call("GET", "/api/v1/board"));
  ASSERT_EQ(board["sources"].size(), 1u);
  EXPECT_EQ(value_of(text, "tracklight_board_stale" + labels("jira", "jira")), board["sources"][0]["stale"] ? 1 : 0);
  EXPECT_TRUE(std::isnan(value_of(text, "tracklight_board_stale" + labels("ado", "azure-devops"))));
  EXPECT_NE(text.find("tracklight_build_info{version=\"" TRACKLIGHT_VERSION "\"} 1\n"), std::string::npos);
}

TEST_F(MetricsTest, BoardAgeCountsFromTheLastGoodFetch) {
  set_up_admin();
  https.respond = [](const std::string& path) {
    platform::HttpsResponse r;
    r.status = 200;
    r.headers = {{"Content-Type", "application/json"}};
    r.body = path.find("/_apis/build/builds") != std::string::npos ? R"({"count":0,"value":[]})" : "{}";
    return r;
  };
  json ado = {{"name", "ADO"}, {"provider", "azure-devops"}, {"server_url", "https://dev.azure.com/org"},
              {"auth", "pat"}, {"token", "CANARY-PAT"}, {"project", "P"}, {"board", {{"enabled", true}}}};
  ASSERT_EQ(call("PUT", "/api/v1/connections/ado?verify=false", ado.dump()).status, 200);
  const std::string series = labels("ado", "azure-devops");
  EXPECT_TRUE(std::isnan(value_of(scrape(), "tracklight_board_last_fetch_age_seconds" + series)));
  EXPECT_EQ(value_of(scrape(), "tracklight_board_stale" + series), 1) << "no data yet";
  clock.now_ms += 2000;
  agent->board().tick();
  clock.wall_s += 7;
  const std::string text = scrape();
  EXPECT_EQ(value_of(text, "tracklight_board_stale" + series), 0) << text;
  EXPECT_EQ(value_of(text, "tracklight_board_last_fetch_age_seconds" + series), 7);
  EXPECT_EQ(value_of(text, "tracklight_upstream_requests_total{id=\"ado\",provider=\"azure-devops\",source=\"board\"}"), 1);
}

TEST_F(MetricsTest, UpstreamCountersMoveWithTheMonitorAndTheBoard) {
  set_up_admin();
  json j = jira_body();
  j["check_interval_s"] = 60;
  ASSERT_EQ(call("PUT", "/api/v1/connections/jira", j.dump()).status, 200);
  std::string text = scrape();
  EXPECT_EQ(upstream(text, "check"), 0) << "Connect's own Test is not background work";
  EXPECT_EQ(upstream(text, "check", "refused"), 0);

  // A monitor check: serverInfo, myself, mypermissions.
  https.requests.clear();
  clock.now_ms += 70000;
  agent->monitor().tick();
  ASSERT_EQ(https.requests.size(), 3u);
  text = scrape();
  EXPECT_EQ(upstream(text, "check"), 3) << text;
  EXPECT_EQ(upstream(text, "check", "http_4xx"), 0);

  // Credentials refused: one request more, counted as refused.
  https.respond = [](const std::string& path) {
    platform::HttpsResponse r = test::happy_jira_cloud(path);
    if (path.find("myself") != std::string::npos) r.status = 401;
    return r;
  };
  clock.now_ms += 70000;
  agent->monitor().tick();
  text = scrape();
  EXPECT_EQ(upstream(text, "check"), 5) << text;
  EXPECT_EQ(upstream(text, "check", "refused"), 1);

  // The board: the fake answers 404 to Cloud's search and then to Data Center's, and then the
  // server cannot be found.
  clock.now_ms += 2000;
  agent->board().tick();
  text = scrape();
  const double board_requests = upstream(text, "board");
  EXPECT_EQ(board_requests, 2) << text;
  EXPECT_EQ(upstream(text, "board", "http_4xx"), 2) << text;
  https.fail_open = true;
  https.open_error = Error{ErrorCode::DnsFailed, "dns", 0, "no such host"};
  clock.now_ms += 70000;
  agent->board().tick();
  text = scrape();
  EXPECT_EQ(upstream(text, "board"), board_requests + 1) << "the failed attempt counts as a request";
  EXPECT_EQ(upstream(text, "board", "dns"), 1);
  EXPECT_EQ(upstream(text, "check", "dns"), 0);

  // A deleted connection leaves the metrics.
  ASSERT_EQ(call("DELETE", "/api/v1/connections/jira").status, 200);
  text = scrape();
  EXPECT_EQ(text.find("id=\"jira\""), std::string::npos) << text;
  EXPECT_TRUE(agent->state().upstream.find("jira") == nullptr);
}

// The upstream counters are about the trackers: a sign-in at Microsoft Entra ID is not one of
// the connection's requests to Azure DevOps (nor, when refused, a refusal by it).
TEST_F(MetricsTest, SignInRequestsAreNotCountedAsTrackerRequests) {
  set_up_admin();
  https.respond = test::happy_azure;
  https.respond_post = [](const std::string&, const std::string&) {
    platform::HttpsResponse r;
    r.status = 200;
    r.headers = {{"Content-Type", "application/json"}};
    r.body = R"({"token_type":"Bearer","expires_in":60,"access_token":"short-lived"})";  // renewed at every check
    return r;
  };
  json sp = {{"name", "SP"}, {"provider", "azure-devops"}, {"server_url", "https://dev.azure.com/fabrikam"},
             {"auth", "service-principal"}, {"tenant_id", "72f988bf-86f1-41af-91ab-2d7cd011db47"},
             {"client_id", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"}, {"client_secret", "s3cr3t"}, {"project", "Fiber"},
             {"check_interval_s", 60}};
  ASSERT_EQ(call("PUT", "/api/v1/connections/sp", sp.dump()).status, 200);
  https.requests.clear();
  clock.now_ms += 70000;
  agent->monitor().tick();
  int posts = 0, gets = 0;
  for (const auto& q : https.requests) (q.method == "POST" ? posts : gets)++;
  ASSERT_EQ(posts, 1) << "the check signed in";
  const std::string text = scrape();
  EXPECT_EQ(value_of(text, "tracklight_upstream_requests_total{id=\"sp\",provider=\"azure-devops\",source=\"check\"}"), gets)
      << text;
}

TEST_F(MetricsTest, ServedRequestsAreCountedByRouteClassAndStatus) {
  const std::string before = scrape();
  auto count = [](const std::string& text, const char* route, const char* code) {
    const double v = value_of(text, std::string("tracklight_http_requests_total{route=\"") + route + "\",code=\"" + code + "\"}");
    return std::isnan(v) ? 0.0 : v;
  };
  call("GET", "/healthz");
  call("GET", "/healthz");
  call("GET", "/");
  call("GET", "/app.js");
  call("GET", "/api/v1/connections");  // before setup: 401
  call("GET", "/board");               // from the LAN without a key: 401
  call("GET", "/nothing-here");
  const std::string after = scrape();
  EXPECT_EQ(count(after, "healthz", "200") - count(before, "healthz", "200"), 2) << after;
  EXPECT_EQ(count(after, "page", "200") - count(before, "page", "200"), 1);
  EXPECT_EQ(count(after, "assets", "200") - count(before, "assets", "200"), 1);
  EXPECT_EQ(count(after, "api", "401") - count(before, "api", "401"), 1);
  EXPECT_EQ(count(after, "board", "401") - count(before, "board", "401"), 1);
  EXPECT_EQ(count(after, "other", "404") - count(before, "other", "404"), 1);
  EXPECT_EQ(count(after, "metrics", "200") - count(before, "metrics", "200"), 1) << "the first scrape";
}

}  // namespace
}  // namespace tracklight::firmware
