// The agent's HTTP client over a real socket (plain HTTP on loopback, as for a managed-identity
// endpoint): a kept connection the server ends is replaced, and a request is never sent twice
// unless it is a GET that the server closed the connection on without a byte of an answer.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>

#include "platform/clock.hpp"
#include "platform/https_client.hpp"

namespace tracklight::platform {
namespace {

// Accepts connections one after another; `serve(fd, n)` handles the n-th request read (counting
// across connections) and says whether to keep the connection.
class LoopServer {
 public:
  using Serve = std::function<bool(int fd, int n, const std::string& request)>;
  explicit LoopServer(Serve serve) : serve_(std::move(serve)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 8);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~LoopServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  int requests() const { return requests_; }
  int connections() const { return connections_; }

 private:
  void run() {
    while (!stop_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      ++connections_;
      std::string buf;
      char chunk[4096];
      for (bool keep = true; keep;) {
        size_t end;
        while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
          const ssize_t n = ::recv(c, chunk, sizeof chunk, 0);
          if (n <= 0) break;
          buf.append(chunk, static_cast<size_t>(n));
        }
        if (end == std::string::npos) break;
        const std::string request = buf.substr(0, end + 4);
        buf.erase(0, end + 4);
        keep = serve_(c, ++requests_, request);
      }
      ::close(c);
    }
  }
  Serve serve_;
  int fd_ = -1, port_ = 0;
  std::atomic<int> requests_{0}, connections_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

void send_all(int fd, const std::string& s) { (void)!::send(fd, s.data(), s.size(), MSG_NOSIGNAL); }
const char* kOk = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";

struct HttpClient : ::testing::Test {
  PosixClock clock;
  MbedtlsConnector https{clock};
  Result<std::unique_ptr<HttpsConnection>> open(int port) {
    HttpsTarget t;
    t.host = "127.0.0.1";
    t.host_is_ip = true;
    t.port = port;
    t.plain_http = true;
    t.deadline_ms = clock.monotonic_ms() + 5000;
    return https.open(t);
  }
};

TEST_F(HttpClient, AKeptConnectionTheServerClosedIsReplacedBeforeTheNextRequest) {
  LoopServer server([](int fd, int, const std::string&) {
    send_all(fd, kOk);
    return false;  // closes after each answer, without saying so (its keep-alive timeout)
  });
  auto conn = open(server.port());
  ASSERT_TRUE(conn);
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the server's FIN arrives
    // The last is a POST, which is never sent twice: it goes out only on a live connection.
    auto r = i < 2 ? (*conn)->get("/x", {}) : (*conn)->post("/token", {}, "code=1", "application/x-www-form-urlencoded");
    ASSERT_TRUE(r) << i << ": " << r.error().detail;
    EXPECT_EQ(r->body, "{}");
  }
  EXPECT_EQ(server.requests(), 3) << "a request was sent twice";
  EXPECT_EQ(server.connections(), 3);
}

TEST_F(HttpClient, AGetTheServerDroppedUnansweredGoesOnceMoreAPostNever) {
  LoopServer server([](int fd, int n, const std::string& request) {
    if (n == 2 || n == 4) return false;  // read, then the connection closed without an answer
    send_all(fd, kOk);
    (void)request;
    return true;
  });
  auto conn = open(server.port());
  ASSERT_TRUE(conn);
  ASSERT_TRUE((*conn)->get("/a", {}));                      // request 1
  auto again = (*conn)->get("/b", {});                       // 2 dropped, 3 answers it
  ASSERT_TRUE(again) << again.error().detail;
  EXPECT_EQ(server.requests(), 3);
  auto post = (*conn)->post("/token", {}, "code=single-use", "application/x-www-form-urlencoded");  // 4 dropped
  EXPECT_FALSE(post);
  EXPECT_EQ(server.requests(), 4) << "a POST was sent again";
}

TEST_F(HttpClient, AnAnswerThatBeganIsNeverFollowedByASecondRequest) {
  LoopServer server([](int fd, int n, const std::string&) {
    send_all(fd, n == 1 ? kOk : "HTTP/1.1 20");
    return n == 1;
  });
  auto conn = open(server.port());
  ASSERT_TRUE(conn);
  ASSERT_TRUE((*conn)->get("/a", {}));
  EXPECT_FALSE((*conn)->get("/b", {}));
  EXPECT_EQ(server.requests(), 2);
}

}  // namespace
}  // namespace tracklight::platform
