// The intake's connection bounds, against real sockets on 127.0.0.1: a new connection over a
// bound closes the one that has waited longest without a whole request, and is served itself.
#include <gtest/gtest.h>
#include <poll.h>

#include "platform/internal/http_intake.hpp"
#include "tests/integration/agent_process.hpp"
#include "tests/integration/fake_tracker.hpp"

namespace tracklight::test {
namespace {

using platform::Connection;

struct IntakeFixture : ::testing::Test {
  platform::MemoryLogger log;
  platform::PosixClock clock;
  platform::RefusalLog refusals{log, clock};
  int listen_fd = -1, port = 0;
  std::unique_ptr<platform::Intake> intake;
  std::thread loop;

  void start(platform::IntakeOptions o) {
    listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(listen(listen_fd, 16), 0);
    socklen_t len = sizeof addr;
    getsockname(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    // A worker stand-in: answers every complete request at once.
    intake = std::make_unique<platform::Intake>(listen_fd, o, refusals, [this](Connection& c) {
      const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
      send(c.fd, ok, sizeof ok - 1, MSG_NOSIGNAL);
      c.in.erase(0, c.request_bytes);
      ++c.served;
      intake->give_back(c, true);
    });
    loop = std::thread([this] { intake->run(); });
  }
  void TearDown() override {
    if (intake) intake->stop();
    if (loop.joinable()) loop.join();
    intake.reset();
    if (listen_fd >= 0) close(listen_fd);
  }
  int connect_partial() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    send(fd, "GET / HTTP/1.1\r\n", 16, MSG_NOSIGNAL);
    return fd;
  }
  // What the server did with a connection within 3 s: "closed", "answered" or "open".
  static std::string fate(int fd) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 3000) <= 0) return "open";
    char buf[256];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    return n > 0 ? "answered" : "closed";
  }
  static bool poll_quiet(int fd) {  // nothing happened to it in 200 ms
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, 200) == 0;
  }
};

TEST_F(IntakeFixture, OneClientOverItsBoundLosesItsOldestWaitingConnection) {
  platform::IntakeOptions o;
  o.max_per_client = 3;
  o.exempt_loopback = false;  // 127.0.0.1 stands in for one LAN address
  start(o);
  std::vector<int> fds;
  for (int i = 0; i < 3; ++i) {
    fds.push_back(connect_partial());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a distinct age each
  }
  int fresh = connect_partial();
  send(fresh, "Host: a\r\n\r\n", 11, MSG_NOSIGNAL);
  EXPECT_EQ(fate(fresh), "answered");
  EXPECT_EQ(fate(fds[0]), "closed") << "the oldest waiting connection should make room";
  EXPECT_TRUE(poll_quiet(fds[1]));
  EXPECT_TRUE(poll_quiet(fds[2]));
  for (int fd : fds) close(fd);
  close(fresh);
  bool logged = false;
  for (const auto& l : log.lines()) logged = logged || l.find("too_many_connections_per_client") != std::string::npos;
  EXPECT_TRUE(logged);
}

TEST_F(IntakeFixture, LoopbackIsBoundedByTheTotalOnly) {
  platform::IntakeOptions o;
  o.max_per_client = 2;
  o.max_connections = 5;
  start(o);
  std::vector<int> fds;
  for (int i = 0; i < 5; ++i) {
    fds.push_back(connect_partial());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (int i = 2; i < 5; ++i) EXPECT_TRUE(poll_quiet(fds[i])) << "loopback is not held to the per-client bound";
  int fresh = connect_partial();
  send(fresh, "Host: a\r\n\r\n", 11, MSG_NOSIGNAL);
  EXPECT_EQ(fate(fresh), "answered");
  EXPECT_EQ(fate(fds[0]), "closed");
  for (int fd : fds) close(fd);
  close(fresh);
}

platform::HttpResponse no_answer(const platform::HttpRequest&) { return {}; }

// A stop that comes before the server runs (SIGTERM right at start-up) ends run() at once, and
// its worker pool is joined, not left running.
TEST(HttpServerLifecycle, StopBeforeRunEndsRunCleanly) {
  platform::MemoryLogger log;
  platform::HttpServerOptions o;
  o.port = 0;
  platform::HttpServer server(o, no_answer, log);
  ASSERT_TRUE(server.bind());
  server.stop();
  server.run();
}

// A handler that throws costs its request a 500 in the API's JSON shape, never the agent: also
// for a request dressed as a WebSocket upgrade, which the library routes on a path outside its
// exception guard.
TEST(HttpServerLifecycle, AHandlerThatThrowsAnswers500AndTheServerGoesOn) {
  platform::MemoryLogger log;
  platform::HttpServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  platform::HttpServer server(o, [](const platform::HttpRequest& r) -> platform::HttpResponse {
    if (r.path == "/throw") throw std::runtime_error("handler failed");
    platform::HttpResponse ok;
    ok.body = "fine";
    ok.content_type = "text/plain";
    return ok;
  }, log);
  auto port = server.bind();
  ASSERT_TRUE(port);
  std::thread serving([&] { server.run(); });
  server.wait_until_serving();
  const std::string host = "Host: 127.0.0.1\r\n";
  const std::string upgrade =
      "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n";
  for (const std::string& extra : {std::string("Connection: close\r\n"), upgrade}) {
    RawReply r = raw_request(*port, "GET /throw HTTP/1.1\r\n" + host + extra + "\r\n", 5);
    EXPECT_EQ(r.status, 500) << r.text;
    EXPECT_NE(r.text.find("\"internal_error\""), std::string::npos) << r.text;
  }
  RawReply after = raw_request(*port, "GET /ok HTTP/1.1\r\n" + host + upgrade + "\r\n", 5);
  EXPECT_EQ(after.status, 200) << "a request dressed as an upgrade is served as a plain request\n" << after.text;
  server.stop();
  serving.join();
}

// A certificate change is refused, naming why, on a plain listener and for a pair that does not
// parse or does not belong together.
TEST(HttpServerLifecycle, ACertificateChangeThatCannotBeServedIsRefused) {
  platform::MemoryLogger log;
  platform::HttpServerOptions o;
  o.port = 0;
  platform::HttpServer plain(o, no_answer, log);
  ASSERT_TRUE(plain.bind());
  const std::string cert = read_text(pki_dir() + "/good.pem"), key = read_text(pki_dir() + "/good.key");
  Status st = plain.replace_certificate(cert, key);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("not an HTTPS listener"), std::string::npos) << st.error().message();

  o.tls_cert_pem = cert;
  o.tls_key_pem = key;
  platform::HttpServer tls(o, no_answer, log);
  ASSERT_TRUE(tls.bind());
  EXPECT_TRUE(tls.replace_certificate(read_text(pki_dir() + "/ec256.pem"), read_text(pki_dir() + "/ec256.key")));
  // A key of the same type and curve, but another certificate's.
  TempDir tmp;
  ASSERT_EQ(std::system(("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + tmp.path() +
                         "/other.key 2>/dev/null").c_str()), 0);
  Status mismatch = tls.replace_certificate(read_text(pki_dir() + "/ec256.pem"), read_text(tmp.path() + "/other.key"));
  ASSERT_FALSE(mismatch);
  EXPECT_NE(mismatch.error().message().find("does not belong to the certificate"), std::string::npos)
      << mismatch.error().message();
  EXPECT_EQ(mismatch.error().message().find("BEGIN"), std::string::npos) << "key material in the error";
  EXPECT_FALSE(tls.replace_certificate("not a certificate", key));
}

}  // namespace
}  // namespace tracklight::test
