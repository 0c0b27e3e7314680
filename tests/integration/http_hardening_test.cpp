// The real binary against hostile clients: request smuggling and framing (RFC 9112 sections 6.3
// and 11.2), slow clients (slowloris, slowhttptest), and the log of what was refused.
#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>

#include "tests/integration/agent_process.hpp"

namespace tracklight::test {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
const char* kPassword = "correct horse battery";
const std::string kHost = "Host: 127.0.0.1\r\n";
const std::string kHealthz = "GET /healthz HTTP/1.1\r\n" + kHost + "\r\n";

// Milliseconds until a GET on a fresh connection is answered with 200, or -1.
long timed_get(int port, const std::string& path) {
  auto t0 = Clock::now();
  RawReply r = raw_request(port, "GET " + path + " HTTP/1.1\r\n" + kHost + "Connection: close\r\n\r\n", 5);
  if (r.status != 200) return -1;
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count());
}

struct HardeningTest : ::testing::Test {
  TempDir tmp;
  std::string state = tmp.path() + "/state";
  std::unique_ptr<AgentProcess> agent;
  std::string cookie, csrf;

  void start() {
    agent = std::make_unique<AgentProcess>(state);
    ASSERT_TRUE(agent->start()) << agent->log();
  }
  void log_in() {
    ApiClient c(agent->port());
    auto r = c.send("POST", "/api/v1/setup", json{{"setup_code", setup_code_of(state)}, {"password", kPassword}}.dump());
    ASSERT_TRUE(r && r->status == 200);
    std::string sc = r->get_header_value("Set-Cookie");
    cookie = sc.substr(sc.find('=') + 1, 64);
    csrf = json::parse(r->body)["csrf_token"];
  }
  std::string auth() const { return "Cookie: tracklight_session=" + cookie + "\r\nX-CSRF-Token: " + csrf + "\r\n"; }
  std::string connections() {
    return raw_request(agent->port(), "GET /api/v1/connections HTTP/1.1\r\n" + kHost + auth() + "Connection: close\r\n\r\n").text;
  }
};

// Every framing that two parsers could read differently: one 400, then the connection ends, and
// the request behind it never runs.
TEST_F(HardeningTest, AmbiguousFramingIsRefusedAndTheConnectionClosed) {
  start();
  const std::string post = "POST /api/v1/login HTTP/1.1\r\n" + kHost + "Content-Type: application/json\r\n";
  const std::vector<std::string> bad = {
      post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      post + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
      post + "Content-Length: +2\r\n\r\n{}",
      post + "Content-Length: 2abc\r\n\r\n{}",
      post + "Content-Length: -1\r\n\r\n",
      post + "Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}",
      post + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
      post + "Transfer-Encoding: identity\r\n\r\n",
      post + "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
      "GET /healthz HTTP/1.1\r\n" + kHost + "X-A: b\r\n folded\r\n\r\n",
      "GET /healthz HTTP/1.1\r\n" + kHost + "no colon\r\n\r\n",
      "GET /healthz HTTP/1.1\r\n" + kHost + std::string("X-A: \0\r\n\r\n", 9),
      "GET /healthz HTTP/1.1\n" + kHost + "\r\n",
  };
  for (const auto& req : bad) {
    RawReply r = raw_request(agent->port(), req + kHealthz);
    EXPECT_EQ(r.status, 400) << req;
    EXPECT_EQ(answers_in(r.text), 1u) << "bytes after a framing error ran as a request:\n" << req << "\n" << r.text;
    EXPECT_NE(r.text.find("Connection: close"), std::string::npos) << req;
  }
}

TEST_F(HardeningTest, ASmuggledPutBehindAnAmbiguousPostSavesNothing) {
  start();
  log_in();
  std::string body = json{{"name", "Smuggled"}, {"provider", "jira"}, {"server_url", "https://127.0.0.1:1"},
                          {"auth", "api-key"}, {"username", "u@example.com"}, {"api_key", "k"}}.dump();
  std::string put = "PUT /api/v1/connections/smuggled?verify=false HTTP/1.1\r\n" + kHost + auth() +
                    "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  std::string chunked_end = "0\r\n\r\n";
  // Read by Content-Length the PUT is the POST's body; read as chunked it is the next request.
  RawReply r = raw_request(agent->port(), "POST /api/v1/board/key HTTP/1.1\r\n" + kHost + auth() +
                                              "Content-Length: " + std::to_string(chunked_end.size() + put.size()) +
                                              "\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked_end + put);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(answers_in(r.text), 1u) << r.text;
  EXPECT_EQ(json::parse(connections().substr(connections().find("\r\n\r\n") + 4)), json::parse(R"({"connections":[]})"));
  // The same PUT sent on its own is saved: the test above could see it.
  RawReply alone = raw_request(agent->port(), put.substr(0, put.find("\r\n\r\n")) + "\r\nConnection: close\r\n\r\n" + body);
  EXPECT_EQ(alone.status, 200) << alone.text;
  EXPECT_NE(connections().find("smuggled"), std::string::npos);
}

TEST_F(HardeningTest, ErrorAnswersEndTheConnection) {
  start();
  log_in();
  const std::vector<std::pair<int, std::string>> refused = {
      {421, "GET /healthz HTTP/1.1\r\nHost: evil.example\r\n\r\n"},
      {401, "GET /api/v1/connections HTTP/1.1\r\n" + kHost + "\r\n"},
      {403, "POST /api/v1/board/key HTTP/1.1\r\n" + kHost + "Cookie: tracklight_session=" + cookie + "\r\n\r\n"},
      {414, "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n" + kHost + "\r\n"},
      {431, "GET /healthz HTTP/1.1\r\n" + kHost + "X-Big: " + std::string(9000, 'b') + "\r\n\r\n"},
      {413, "POST /api/v1/login HTTP/1.1\r\n" + kHost + "Content-Length: 100000\r\n\r\n"},
  };
  for (const auto& [status, req] : refused) {
    RawReply r = raw_request(agent->port(), req + kHealthz);
    EXPECT_EQ(r.status, status) << req.substr(0, 80);
    EXPECT_EQ(answers_in(r.text), 1u) << "the request after a " << status << " ran:\n" << r.text;
  }
}

// A body on GET, HEAD or OPTIONS belongs to that request; it is never the next one.
TEST_F(HardeningTest, ABodyOnGetHeadOrOptionsIsNotTheNextRequest) {
  start();
  const std::string inner = "GET /no-such-page HTTP/1.1\r\n" + kHost + "\r\n";
  for (const char* method : {"GET", "HEAD", "OPTIONS"}) {
    RawReply r = raw_request(agent->port(), std::string(method) + " /healthz HTTP/1.1\r\n" + kHost + "Content-Length: " +
                                                std::to_string(inner.size()) + "\r\n\r\n" + inner +
                                                "GET /healthz HTTP/1.1\r\n" + kHost + "Connection: close\r\n\r\n");
    EXPECT_EQ(r.text.find("HTTP/1.1 404"), std::string::npos) << method << ": the body ran as a request\n" << r.text;
    EXPECT_GE(answers_in(r.text), 1u) << method;
  }
  RawReply get = raw_request(agent->port(), "GET /healthz HTTP/1.1\r\n" + kHost + "Content-Length: " + std::to_string(inner.size()) +
                                                "\r\n\r\n" + inner + "GET /healthz HTTP/1.1\r\n" + kHost + "Connection: close\r\n\r\n");
  EXPECT_EQ(answers_in(get.text), 2u) << "the request after the body was not served:\n" << get.text;
}

TEST_F(HardeningTest, APostWithoutABodyIsServedOrNamesWhatIsMissing) {
  start();
  log_in();
  auto t0 = Clock::now();
  RawReply key = raw_request(agent->port(), "POST /api/v1/board/key HTTP/1.1\r\n" + kHost + auth() + "Connection: close\r\n\r\n");
  EXPECT_EQ(key.status, 200) << key.text;
  EXPECT_NE(key.text.find("\"key\""), std::string::npos) << key.text;
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(1)) << "the server waited for a body that was never announced";
  RawReply put = raw_request(agent->port(), "PUT /api/v1/connections/jira HTTP/1.1\r\n" + kHost + auth() + "Connection: close\r\n\r\n");
  EXPECT_EQ(put.status, 400);
  EXPECT_NE(put.text.find("\"code\":\"body_required\""), std::string::npos) << put.text;
  EXPECT_NE(put.text.find("server_url"), std::string::npos) << put.text;
  RawReply login = raw_request(agent->port(), "POST /api/v1/login HTTP/1.1\r\n" + kHost + "Content-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(login.status, 400);
  EXPECT_NE(login.text.find("JSON object with password"), std::string::npos) << login.text;
  RawReply logout = raw_request(agent->port(), "POST /api/v1/logout HTTP/1.1\r\n" + kHost + auth() + "Connection: close\r\n\r\n");
  EXPECT_EQ(logout.status, 200) << logout.text;
}

// curl sends Expect: 100-continue for larger bodies and waits for the interim answer; the body
// must still arrive whole before a worker sees the request, and the client gets one 100.
TEST_F(HardeningTest, Expect100ContinueGetsOneInterimAnswer) {
  start();
  int fd = connect_loopback(agent->port());
  ASSERT_GE(fd, 0);
  std::string head = "POST /api/v1/login HTTP/1.1\r\n" + kHost +
                     "Content-Type: application/json\r\nContent-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n";
  ASSERT_GT(send(fd, head.data(), head.size(), MSG_NOSIGNAL), 0);
  pollfd p{fd, POLLIN, 0};
  ASSERT_GT(poll(&p, 1, 2000), 0) << "no 100 Continue while the body was awaited";
  char buf[4096];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  ASSERT_GT(n, 0);
  std::string text(buf, static_cast<size_t>(n));
  EXPECT_EQ(text.rfind("HTTP/1.1 100 Continue\r\n\r\n", 0), 0u) << text;
  ASSERT_GT(send(fd, "{}", 2, MSG_NOSIGNAL), 0);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) text.append(buf, static_cast<size_t>(n));
  close(fd);
  size_t interim = 0;
  for (size_t at = text.find("HTTP/1.1 100"); at != std::string::npos; at = text.find("HTTP/1.1 100", at + 1)) ++interim;
  EXPECT_EQ(interim, 1u) << text;
  EXPECT_EQ(answers_in(text), 1u) << text;
}

TEST_F(HardeningTest, RefusalsAreLoggedRateLimitedAndWithoutSecrets) {
  start();
  log_in();
  const std::string put = "PUT /api/v1/connections/x HTTP/1.1\r\n" + kHost + "Content-Type: application/json\r\nContent-Length: 2\r\n";
  const std::string session = "Cookie: tracklight_session=" + cookie + "\r\n";
  raw_request(agent->port(), put + session + "X-CSRF-Token: wrong-token-5e1f\r\nConnection: close\r\n\r\n{}");
  raw_request(agent->port(), put + auth() + "Origin: http://evil.example\r\nConnection: close\r\n\r\n{}");
  raw_request(agent->port(), put + auth() + "Sec-Fetch-Site: cross-site\r\nConnection: close\r\n\r\n{}");
  raw_request(agent->port(), "GET /healthz HTTP/1.1\r\nHost: evil.example\r\n" + session + "Connection: close\r\n\r\n");
  raw_request(agent->port(), "POST /api/v1/login HTTP/1.1\r\n" + kHost + "Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  for (int i = 0; i < 40; ++i)
    raw_request(agent->port(), "GET / HTTP/1.1\r\nHost: flood.example\r\nConnection: close\r\n\r\n");
  std::string log = agent->log();
  for (const char* rule : {"csrf_token_invalid", "origin_refused", "cross_site", "host_not_allowed", "length_and_chunked"})
    EXPECT_NE(log.find("refused 127.0.0.1 (rule " + std::string(rule) + ")"), std::string::npos) << rule << "\n" << log;
  size_t host_lines = 0;
  for (size_t at = log.find("(rule host_not_allowed)"); at != std::string::npos; at = log.find("(rule host_not_allowed)", at + 1))
    ++host_lines;
  EXPECT_EQ(host_lines, 10u) << "41 Host refusals in a minute should log 10 lines";
  EXPECT_EQ(log.find(cookie), std::string::npos);
  EXPECT_EQ(log.find(csrf), std::string::npos);
  EXPECT_EQ(log.find("wrong-token-5e1f"), std::string::npos);
}

// Half-sent requests hold a buffer, not a worker: others are served at once.
TEST_F(HardeningTest, RequestLineOnlyClientsDoNotDelayOthers) {
  start();
  std::vector<int> slow;
  for (int i = 0; i < 4; ++i) {
    int fd = connect_loopback(agent->port());
    ASSERT_GE(fd, 0);
    ASSERT_GT(send(fd, "GET /healthz HTTP/1.1\r\n", 23, MSG_NOSIGNAL), 0);
    slow.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // they have reached the server
  for (int i = 0; i < 10; ++i) {
    long ms = timed_get(agent->port(), "/healthz");
    EXPECT_GE(ms, 0);
    EXPECT_LT(ms, 200) << "a request waited behind request-line-only clients";
  }
  for (int fd : slow) close(fd);
}

TEST_F(HardeningTest, FortyClientsTricklingOneBytePerSecondDoNotDelayOthers) {
  start();
  const std::string req = "GET /healthz HTTP/1.1\r\n" + kHost + "X-Slow: " + std::string(64, 'a') + "\r\n\r\n";
  std::vector<int> fds;
  for (int i = 0; i < 40; ++i) fds.push_back(connect_loopback(agent->port()));
  std::atomic<bool> done{false};
  std::thread trickle([&] {
    for (size_t at = 0; at < req.size() && !done; ++at) {
      for (int fd : fds) send(fd, req.data() + at, 1, MSG_NOSIGNAL);
      for (int i = 0; i < 10 && !done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  long worst = 0;
  auto until = Clock::now() + std::chrono::seconds(8);  // past the 5 s head deadline
  while (Clock::now() < until) {
    long ms = timed_get(agent->port(), "/healthz");
    EXPECT_GE(ms, 0);
    worst = std::max(worst, ms);
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  done = true;
  trickle.join();
  EXPECT_LT(worst, 1000) << "/healthz took " << worst << " ms while 40 clients trickled";
  // The trickling requests ran past their head deadline (counted from the first byte): 408.
  size_t timed_out = 0;
  for (int fd : fds) {
    char buf[512];
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 2000) > 0) {
      ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
      timed_out += n > 0 && std::string(buf, static_cast<size_t>(n)).rfind("HTTP/1.1 408", 0) == 0;
    }
    close(fd);
  }
  EXPECT_EQ(timed_out, fds.size());
}

// slowhttptest (Debian package, installed by tools/bootstrap) against the real binary.
struct SlowAttack {
  pid_t pid = -1;
  SlowAttack(const std::vector<std::string>& args, const std::string& out) {
    pid = fork();
    if (pid == 0) {
      int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execvp("slowhttptest", argv.data());
      _exit(127);
    }
  }
  ~SlowAttack() {
    if (pid <= 0) return;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  bool running() { return waitpid(pid, nullptr, WNOHANG) == 0; }
};

void survive_attack(HardeningTest& t, const char* mode, const std::string& path) {
  t.start();
  ASSERT_EQ(system("command -v slowhttptest >/dev/null"), 0) << "slowhttptest is missing: run tools/bootstrap";
  const pid_t pid = t.agent->pid();
  long rss_before = proc_value(pid, "VmRSS:");
  std::string url = "http://127.0.0.1:" + std::to_string(t.agent->port()) + path;
  SlowAttack attack({"slowhttptest", mode, "-c", "200", "-r", "200", "-i", "2", "-s", "8192", "-l", "15", "-x", "10",
                     "-p", "2", "-u", url},
                    t.tmp.path() + "/slowhttptest.out");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the attack connections are opening
  long worst = 0, rss_peak = 0;
  size_t fds_peak = 0;
  int probes = 0;
  auto until = Clock::now() + std::chrono::seconds(11);
  while (Clock::now() < until && attack.running()) {
    for (const char* probe : {"/healthz", "/board"}) {
      long ms = timed_get(t.agent->port(), probe);
      EXPECT_GE(ms, 0) << probe << " was not answered during slowhttptest " << mode;
      worst = std::max(worst, ms);
      ++probes;
    }
    rss_peak = std::max(rss_peak, proc_value(pid, "VmRSS:"));
    fds_peak = std::max(fds_peak, open_fds(pid));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_GT(probes, 20) << read_text(t.tmp.path() + "/slowhttptest.out");
  EXPECT_LT(worst, 1000) << "a probe took " << worst << " ms during slowhttptest " << mode;
  EXPECT_LE(fds_peak, 128u + 32u) << "open file descriptors were not bounded";
  EXPECT_LT(rss_peak - rss_before, 32 * 1024) << "RSS grew from " << rss_before << " kB to " << rss_peak << " kB";
  // The attack really held connections: they ran into their deadline (counted from the first byte).
  EXPECT_NE(t.agent->log().find("(rule request_timeout)"), std::string::npos)
      << read_text(t.tmp.path() + "/slowhttptest.out");
}

TEST_F(HardeningTest, SlowHeadersAttackLeavesHealthzAndBoardServed) { survive_attack(*this, "-H", "/"); }
TEST_F(HardeningTest, SlowBodyAttackLeavesHealthzAndBoardServed) { survive_attack(*this, "-B", "/api/v1/login"); }

}  // namespace
}  // namespace tracklight::test
