// The real binary on a loopback port, driven as a client would drive it.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <random>

#include "tests/integration/agent_process.hpp"

namespace tracklight::test {
namespace {

using nlohmann::json;
const char* kPassword = "correct horse battery";

json jira_connection(const std::string& name = "Team Jira") {
  return {{"name", name}, {"provider", "jira"}, {"server_url", "https://example.atlassian.net"},
          {"auth", "api-key"}, {"username", "mia@example.com"}, {"api_key", "CANARY-API-KEY-7f3a"},
          {"proxy_url", "http://127.0.0.1:1"}, {"proxy_username", "p"}, {"proxy_password", "CANARY-PROXY-PW-19c2"},
          {"headers", json::array({{{"name", "X-Service-Token"}, {"value", "CANARY-HEADER-d41d"}}})}};
}

json ado_connection() {
  return {{"name", "Fabrikam"}, {"provider", "azure-devops"}, {"server_url", "https://dev.azure.com/fabrikam"},
          {"auth", "pat"}, {"token", "CANARY-PAT-88e1"}, {"project", "Fiber"}, {"use_for_tfvc", true}};
}

struct AgentTest : ::testing::Test {
  TempDir tmp;
  std::string state = tmp.path() + "/state";
  std::unique_ptr<AgentProcess> agent;

  void start() {
    agent = std::make_unique<AgentProcess>(state);
    ASSERT_TRUE(agent->start()) << agent->log();
  }
  ApiClient admin() {
    ApiClient c(agent->port());
    if (std::filesystem::exists(state + "/setup-code")) EXPECT_TRUE(c.setup(setup_code_of(state), kPassword));
    else EXPECT_TRUE(c.login(kPassword));
    return c;
  }
};

TEST_F(AgentTest, SetupCodeFlow) {
  start();
  const std::string code = setup_code_of(state);
  ASSERT_EQ(code.size(), 11u);
  struct stat st {};
  ASSERT_EQ(stat((state + "/setup-code").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat(state.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_NE(agent->log().find(code), std::string::npos);

  ApiClient c(agent->port());
  auto pre = c.send("GET", "/api/v1/connections");
  ASSERT_TRUE(pre);
  EXPECT_EQ(pre->status, 401);
  EXPECT_NE(pre->body.find("setup_required"), std::string::npos);
  std::vector<std::string> bodies;
  for (const char* guess : {"", "AAAAA-AAAAA", "00000-00000"}) {
    auto r = c.send("POST", "/api/v1/setup", json{{"setup_code", guess}, {"password", kPassword}}.dump());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403);
    bodies.push_back(r->body);
  }
  ASSERT_TRUE(c.setup(code, kPassword));
  auto second = c.send("POST", "/api/v1/setup", json{{"setup_code", code}, {"password", "other password"}}.dump());
  EXPECT_EQ(second->status, 403);
  bodies.push_back(second->body);
  bodies.push_back(c.send("GET", "/api/v1/session")->body);
  const std::string page = gunzip(c.send("GET", "/", "", {{"Accept-Encoding", "gzip"}})->body);
  EXPECT_NE(page.find("Task Tracking"), std::string::npos) << "the page, decompressed";
  bodies.push_back(page);
  for (const auto& b : bodies) EXPECT_EQ(b.find(code), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(state + "/setup-code"));
  EXPECT_EQ(read_text(state + "/tracklight.conf").find(kPassword), std::string::npos);
}

TEST_F(AgentTest, LoginIsRateLimitedPerClient) {
  start();
  admin();
  ApiClient c(agent->port());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(c.send("POST", "/api/v1/login", R"({"password":"wrong one!"})")->status, 401);
  auto limited = c.send("POST", "/api/v1/login", json{{"password", kPassword}}.dump());
  EXPECT_EQ(limited->status, 429);
  EXPECT_EQ(limited->get_header_value("Retry-After"), "1");
  // The backoff runs on the agent's own clock: ask again until it lets the right password in
  // (the delay itself is tested on a fake clock in tests/unit/auth_test.cpp). Waiting does not
  // lengthen it: a refused attempt is not counted as a failure.
  bool in = false;
  for (int i = 0; i < 100 && !in; ++i) {
    in = c.login(kPassword);
    if (!in) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(in) << "still locked out 10 s after a 1 s backoff";
}

TEST_F(AgentTest, WritesWithoutCsrfTokenOrFromAnotherOriginAreRefused) {
  start();
  ApiClient c = admin();
  auto no_token = c.send("PUT", "/api/v1/connections/jira", jira_connection().dump(), {{"X-CSRF-Token", ""}});
  EXPECT_EQ(no_token->status, 403);
  auto cross = c.send("PUT", "/api/v1/connections/jira", jira_connection().dump(), {{"Origin", "http://evil.example"}});
  EXPECT_EQ(cross->status, 403);
  EXPECT_EQ(c.send("GET", "/api/v1/connections")->body, R"({"connections":[]})");
}

TEST_F(AgentTest, ForeignHostGets421EverywhereAndNoCorsHeaders) {
  start();
  for (const char* path : {"/", "/app.js", "/healthz", "/api/v1/session"}) {
    RawReply r = raw_request(agent->port(), std::string("GET ") + path + " HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(r.status, 421) << path;
    EXPECT_EQ(r.text.find("Access-Control-Allow-Origin"), std::string::npos);
  }
  RawReply two = raw_request(agent->port(), "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(two.status, 400);
  RawReply none = raw_request(agent->port(), "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(none.status, 400);
  RawReply ok = raw_request(agent->port(), "GET /healthz HTTP/1.1\r\nHost: localhost:1\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(ok.status, 200);
  RawReply preflight = raw_request(agent->port(),
                                   "OPTIONS /api/v1/connections HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example\r\n"
                                   "Access-Control-Request-Method: PUT\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(preflight.status, 405);
  EXPECT_EQ(preflight.text.find("Access-Control"), std::string::npos);
}

TEST_F(AgentTest, SecretsAreAbsentFromEveryReadTheLogAndTheFile) {
  start();
  ApiClient c = admin();
  auto put = c.send("PUT", "/api/v1/connections/jira?verify=false", jira_connection().dump());
  ASSERT_EQ(put->status, 200) << put->body;
  ASSERT_EQ(c.send("PUT", "/api/v1/connections/ado?verify=false", ado_connection().dump())->status, 200);
  auto invalid = jira_connection();
  invalid["server_url"] = "http://CANARY-URL.example";
  std::vector<std::string> seen = {put->body, c.send("PUT", "/api/v1/connections/bad", invalid.dump())->body,
                                   c.send("PUT", "/api/v1/connections/unreachable", jira_connection().dump())->body};
  for (const char* path : {"/api/v1/connections", "/api/v1/connections/jira", "/api/v1/connections/ado",
                           "/api/v1/status", "/api/v1/session", "/", "/healthz"}) {
    auto r = c.send("GET", path);
    ASSERT_TRUE(r);
    std::string all = r->body;
    for (const auto& h : r->headers) all += h.first + ": " + h.second + "\n";
    seen.push_back(all);
  }
  seen.push_back(c.send("POST", "/api/v1/connections/test", json{{"id", "jira"}, {"name", "x"}}.dump())->body);
  for (const auto& s : seen)
    for (const char* canary : {"CANARY-API-KEY", "CANARY-PROXY-PW", "CANARY-HEADER", "CANARY-PAT"})
      EXPECT_EQ(s.find(canary), std::string::npos) << canary << " in " << s;
  agent->stop();
  for (const std::string& file : {agent->log(), read_text(state + "/tracklight.conf")})
    EXPECT_EQ(file.find("CANARY-"), std::string::npos) << file;
}

TEST_F(AgentTest, UnknownFieldsAndBadValuesNameTheField) {
  start();
  ApiClient c = admin();
  json j = jira_connection();
  j["colour"] = "blue";
  auto r = c.send("PUT", "/api/v1/connections/jira", j.dump());
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(json::parse(r->body)["error"]["field"], "colour");
  j = jira_connection();
  j["server_url"] = "ftp://example.atlassian.net";
  r = c.send("PUT", "/api/v1/connections/jira", j.dump());
  EXPECT_EQ(r->status, 422);
  EXPECT_EQ(json::parse(r->body)["report"]["checks"][0]["errors"][0]["field"], "server_url");
}

TEST_F(AgentTest, OversizedRequestsAreRefused) {
  start();
  ApiClient c = admin();
  std::string big(100 * 1024, 'x');
  RawReply r = raw_request(agent->port(), "PUT /api/v1/connections/jira HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                          "Content-Length: " + std::to_string(big.size()) + "\r\nConnection: close\r\n\r\n" + big);
  EXPECT_EQ(r.status, 413);
  std::string headers = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (int i = 0; i < 100; ++i) headers += "X-Filler-" + std::to_string(i) + ": " + std::string(100, 'y') + "\r\n";
  RawReply h = raw_request(agent->port(), headers + "Connection: close\r\n\r\n");
  EXPECT_EQ(h.status, 431);
  RawReply uri = raw_request(agent->port(), "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(uri.status, 414);
  // Still serving normally afterwards.
  EXPECT_EQ(c.send("GET", "/healthz")->status, 200);
}

TEST_F(AgentTest, SlowClientsCannotPinTheServer) {
  start();
  // More half-sent requests than there are workers: each is dropped at its read timeout or
  // request deadline, and a normal client is served meanwhile or right after.
  std::vector<int> slow;
  for (int i = 0; i < 8; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(agent->port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    const char* partial = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    ASSERT_GT(send(fd, partial, strlen(partial), MSG_NOSIGNAL), 0);
    slow.push_back(fd);
  }
  auto t0 = std::chrono::steady_clock::now();
  RawReply r = raw_request(agent->port(), "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", 30);
  auto waited = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.status, 200);
  EXPECT_LE(waited, 12) << "a slow client held a worker past the read timeout";
  for (int fd : slow) {
    char buf[256];
    timeval tv{15, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    if (n > 0) {  // at most a timeout answer, then the connection ends
      buf[n] = 0;
      EXPECT_EQ(std::string(buf).rfind("HTTP/1.1 408", 0), 0u) << buf;
      while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {
      }
    }
    EXPECT_EQ(n, 0) << "the half-sent request's connection was not closed";
    close(fd);
  }
}

TEST_F(AgentTest, ConnectionsSurviveARestartAndSigtermIsClean) {
  start();
  ApiClient c = admin();
  ASSERT_EQ(c.send("PUT", "/api/v1/connections/jira?verify=false", jira_connection().dump())->status, 200);
  ASSERT_EQ(c.send("PUT", "/api/v1/connections/ado?verify=false", ado_connection().dump())->status, 200);
  EXPECT_EQ(agent->stop(), 0);
  EXPECT_NE(agent->log().find("stopped"), std::string::npos);
  // A restore or a careless chmod left the secrets readable to others: the agent closes them.
  chmod((state + "/device.key").c_str(), 0644);
  chmod((state + "/tracklight.conf").c_str(), 0640);
  start();
  struct stat st {};
  ASSERT_EQ(stat((state + "/device.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat((state + "/tracklight.conf").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_NE(agent->log().find("device.key was readable by other users"), std::string::npos);
  ApiClient again = admin();
  json list = json::parse(again.send("GET", "/api/v1/connections")->body)["connections"];
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["id"], "jira");
  EXPECT_EQ(list[0]["secrets"]["api_key"], true);
  EXPECT_EQ(list[1]["status"], "not-verified");
  EXPECT_EQ(list[1]["use_for_tfvc"], true);
}

TEST_F(AgentTest, CorruptConfigFallsBackToBackupAndKeepsTheBrokenFile) {
  start();
  ApiClient c = admin();
  ASSERT_EQ(c.send("PUT", "/api/v1/connections/jira?verify=false", jira_connection("first").dump())->status, 200);
  ASSERT_EQ(c.send("PUT", "/api/v1/connections/jira?verify=false", jira_connection("second").dump())->status, 200);
  agent->stop();
  const std::string conf = state + "/tracklight.conf";
  std::string text = read_text(conf);
  std::string broken = text.substr(0, text.size() / 2) + "\nthis line is not a setting\n";
  std::ofstream(conf, std::ios::trunc) << broken;

  start();
  EXPECT_NE(agent->log().find("tracklight.conf line"), std::string::npos) << agent->log();
  ApiClient again = admin();
  json status = json::parse(again.send("GET", "/api/v1/status")->body);
  EXPECT_NE(status["config_problem"].get<std::string>().find("using the backup"), std::string::npos);
  json jira = json::parse(again.send("GET", "/api/v1/connections/jira")->body);
  EXPECT_EQ(jira["name"], "first");
  EXPECT_EQ(read_text(conf), broken);
  bool kept = false;
  for (const auto& e : std::filesystem::directory_iterator(state))
    kept = kept || (e.path().filename().string().find("tracklight.conf.broken-") == 0 && read_text(e.path()) == broken);
  EXPECT_TRUE(kept);
  // The running agent still saves, and the broken file is only now replaced.
  ASSERT_EQ(again.send("PUT", "/api/v1/connections/jira?verify=false", jira_connection("third").dump())->status, 200);
  EXPECT_NE(read_text(conf).find("name = third"), std::string::npos);
}

TEST_F(AgentTest, KillDuringSavesNeverLeavesAPartialConfig) {
  start();
  admin();
  agent->stop();
  std::mt19937 rng(42);
  int last_acknowledged = 0;
  for (int round = 0; round < 12; ++round) {
    start();
    ApiClient c = admin();
    std::atomic<int> acked{last_acknowledged}, sent{last_acknowledged};
    std::atomic<bool> go{true};
    std::thread writer([&] {
      ApiClient& w = c;  // only this thread uses it until join
      for (int gen = acked + 1; go; ++gen) {
        sent = gen;
        auto r = w.send("PUT", "/api/v1/connections/jira?verify=false", jira_connection("gen-" + std::to_string(gen)).dump());
        if (!r || r->status != 200) break;
        acked = gen;
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 60));
    agent->kill9();
    go = false;
    writer.join();

    start();
    EXPECT_EQ(agent->log().find("could not be used"), std::string::npos) << "round " << round << "\n" << agent->log();
    EXPECT_FALSE(std::filesystem::exists(state + "/tracklight.conf.tmp"));
    ApiClient check = admin();
    auto r = check.send("GET", "/api/v1/connections/jira");
    ASSERT_TRUE(r);
    if (acked > 0) {
      ASSERT_EQ(r->status, 200) << "round " << round;
      int gen = std::stoi(json::parse(r->body)["name"].get<std::string>().substr(4));
      EXPECT_GE(gen, acked.load()) << "an acknowledged save was lost";
      EXPECT_LE(gen, sent.load());
      last_acknowledged = gen;
    }
    agent->stop();
  }
  EXPECT_GT(last_acknowledged, 12);
}

TEST_F(AgentTest, PasswdCommandAndSighupReload) {
  start();
  ApiClient c = admin();
  // Reset the password offline, as `tracklight passwd` does, then tell the running agent.
  std::string cmd = std::string("echo 'a brand new password' | ") + TRACKLIGHT_BINARY + " passwd --state-dir " + state + " >/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  agent->signal(SIGHUP);
  for (int i = 0; i < 200 && agent->log().find("reloaded") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(c.send("GET", "/api/v1/connections")->status, 401);  // old sessions ended
  ApiClient fresh(agent->port());
  EXPECT_FALSE(fresh.login(kPassword));
  EXPECT_TRUE(fresh.login("a brand new password"));
}

// Without the SIGHUP the README asks for, the next save from the page used to write the old
// password back. Now the agent notices the file changed under it and builds on it.
TEST_F(AgentTest, PasswdWithoutReloadIsNotUndoneByTheNextSave) {
  start();
  ApiClient c = admin();
  std::string cmd = std::string("echo 'a brand new password' | ") + TRACKLIGHT_BINARY + " passwd --state-dir " + state + " >/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto put = c.send("PUT", "/api/v1/connections/jira?verify=false", jira_connection().dump());
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 200) << put->body;
  EXPECT_NE(agent->log().find("changed outside the agent"), std::string::npos) << agent->log();
  agent->stop();
  start();
  ApiClient fresh(agent->port());
  EXPECT_FALSE(fresh.login(kPassword));
  EXPECT_TRUE(fresh.login("a brand new password"));
  EXPECT_EQ(fresh.send("GET", "/api/v1/connections/jira")->status, 200) << "the page's save was kept too";
}

// `tracklight test` beside a running agent only reads: no key, no mode change, no temp file removed.
TEST_F(AgentTest, OfflineTestChangesNothingInTheStateDirectory) {
  const std::string empty = tmp.path() + "/never-used";
  std::string cmd = std::string(TRACKLIGHT_BINARY) + " test --state-dir " + empty + " 2>/dev/null";
  EXPECT_NE(std::system(cmd.c_str()), 0);
  EXPECT_FALSE(std::filesystem::exists(empty)) << "tracklight test created the state directory";
  start();
  ApiClient c = admin();
  ASSERT_EQ(c.send("PUT", "/api/v1/connections/jira?verify=false", jira_connection().dump())->status, 200);
  agent->stop();
  const std::string conf = state + "/tracklight.conf";
  { std::ofstream(conf + ".tmp") << "a save in progress"; }
  chmod(conf.c_str(), 0640);  // as someone left it; only the agent itself repairs this
  cmd = std::string(TRACKLIGHT_BINARY) + " test jira --state-dir " + state + " >/dev/null 2>&1";
  (void)std::system(cmd.c_str());
  EXPECT_TRUE(std::filesystem::exists(conf + ".tmp"));
  struct stat st {};
  ASSERT_EQ(stat(conf.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

}  // namespace
}  // namespace tracklight::test
