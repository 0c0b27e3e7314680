// The agent's own HTTP/1.1 exchange (platform/internal/http_exchange.cpp) against answers a
// hostile or broken server could send: the framing decides how much is read and whether the
// connection is used again, so a wrong decision would hold memory or read one answer as the next.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "platform/internal/http_exchange.hpp"

namespace tracklight::platform {
namespace {

// A stream that answers with `in` (in reads of at most the size asked) and keeps what is written.
class Script : public httplib::Stream {
 public:
  explicit Script(std::string in) : in_(std::move(in)) {}
  bool is_readable() const override { return true; }
  bool wait_readable() const override { return true; }
  bool wait_writable() const override { return true; }
  time_t duration() const override { return 0; }
  ssize_t read(char* to, size_t size) override {
    size = std::min(size, in_.size() - at_);
    std::memcpy(to, in_.data() + at_, size);
    at_ += size;
    return static_cast<ssize_t>(size);
  }
  ssize_t write(const char* p, size_t size) override {
    out.append(p, size);
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override { ip = "127.0.0.1", port = 443; }
  void get_local_ip_and_port(std::string& ip, int& port) const override { ip = "127.0.0.1", port = 1; }
  socket_t socket() const override { return 0; }
  size_t unread() const { return in_.size() - at_; }
  std::string out;

 private:
  std::string in_;
  size_t at_ = 0;
};

struct Exchanged {
  Result<HttpsResponse> res;
  bool reusable = false, unanswered = false;
};

Exchanged exchange(Script& s, OutgoingRequest req = {}, size_t cap = 1024) {
  if (req.target.empty()) req.target = "/rest/api/2/myself";
  req.host_header = "jira.example";
  Exchanged e{Error{ErrorCode::IoError, "", 0, ""}};
  e.res = http_exchange(s, req, cap, "jira.example", e.reusable, &e.unanswered);
  return e;
}

TEST(HttpExchange, ASizedAnswerOnHttp11KeepsTheConnection) {
  Script s("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}EXTRA");
  auto e = exchange(s);
  ASSERT_TRUE(e.res) << e.res.error().detail;
  EXPECT_EQ(e.res->status, 200);
  EXPECT_EQ(e.res->body, "{}");
  EXPECT_TRUE(e.reusable);
  EXPECT_EQ(s.unread(), 5u) << "nothing past the body is read";
  EXPECT_EQ(s.out.rfind("GET /rest/api/2/myself HTTP/1.1\r\nHost: jira.example\r\n", 0), 0u) << s.out;
}

TEST(HttpExchange, LengthsBeyondTheCapNeverWrapOrAllocate) {
  for (const char* answer : {"HTTP/1.1 200 OK\r\nContent-Length: 4294967296\r\n\r\n{}",
                             "HTTP/1.1 200 OK\r\nContent-Length: 999999999999999\r\n\r\n{}",
                             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nX\r\nFFFFFFFF\r\nXX",
                             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFF\r\nXX"}) {
    Script s(answer);
    auto e = exchange(s);
    ASSERT_FALSE(e.res) << answer;
    EXPECT_EQ(e.res.error().code, ErrorCode::ResponseTooLarge) << answer << ": " << e.res.error().detail;
  }
}

TEST(HttpExchange, AmbiguousFramingIsNeverKeptForTheNextRequest) {
  for (const char* answer : {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\n{}",
                             "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: gzip\r\n\r\n{}",
                             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
                             "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
                             "HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 2\r\n\r\n{}",
                             "HTTP/1.1 200 OK\r\nConnection: close\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n{}",
                             "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}",
                             "HTTP/1.1 200 OK\r\n\r\n{}"}) {
    Script s(answer);
    auto e = exchange(s);
    EXPECT_FALSE(e.reusable) << answer;
    if (e.res) {
      EXPECT_EQ(s.unread(), 0u) << answer << ": a body read to the end of the connection";
    }
  }
  Script chunked("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n1\r\n}\r\n0\r\n\r\n");
  auto e = exchange(chunked);
  ASSERT_TRUE(e.res);
  EXPECT_EQ(e.res->body, "{}");
  EXPECT_TRUE(e.reusable);
}

TEST(HttpExchange, AFoldedOrSpacedHeaderIsRefusedNotGuessed) {
  for (const char* answer : {"HTTP/1.1 200 OK\r\nX-A: 1\r\n Content-Length: 0\r\n\r\n",
                             "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n{}"}) {
    Script s(answer);
    EXPECT_FALSE(exchange(s).res) << answer;
  }
}

TEST(HttpExchange, InterimAnswersComeFirstAndASwitchIsRefused) {
  Script s("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
  auto e = exchange(s);
  ASSERT_TRUE(e.res) << e.res.error().detail;
  EXPECT_EQ(e.res->status, 201);
  Script up("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n");
  EXPECT_FALSE(exchange(up).res);
}

TEST(HttpExchange, AControlCharacterInTheRequestSendsNothing) {
  OutgoingRequest req;
  req.headers = {{"X-Token", "a\r\nX-Injected: 1"}};
  Script s("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  auto e = exchange(s, req);
  ASSERT_FALSE(e.res);
  EXPECT_EQ(e.res.error().code, ErrorCode::BadInput);
  EXPECT_EQ(e.res.error().detail.find("X-Injected"), std::string::npos);
  EXPECT_TRUE(s.out.empty());
  OutgoingRequest path;
  path.target = "/x HTTP/1.1\r\nHost: evil";
  Script s2("");
  EXPECT_FALSE(exchange(s2, path).res);
  EXPECT_TRUE(s2.out.empty());
}

TEST(HttpExchange, APostCarriesItsLengthEvenWhenEmpty) {
  OutgoingRequest req;
  req.method = "POST";
  Script s("HTTP/1.1 204 No Content\r\n\r\n");
  ASSERT_TRUE(exchange(s, req).res);
  EXPECT_NE(s.out.find("Content-Length: 0\r\n"), std::string::npos) << s.out;
  EXPECT_EQ(s.out.find("Content-Type"), std::string::npos) << s.out;
}

TEST(HttpExchange, ARefusedConnectIsNotReadPastItsHeaders) {
  OutgoingRequest req;
  req.method = "CONNECT";
  req.target = "jira.example:443";
  // A keep-alive 407 without a length: reading its body would wait for the deadline.
  Script s("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\nbody that never ends");
  auto e = exchange(s, req);
  ASSERT_TRUE(e.res);
  EXPECT_EQ(e.res->status, 407);
  EXPECT_FALSE(e.reusable);
  EXPECT_EQ(s.unread(), std::strlen("body that never ends"));
}

TEST(HttpExchange, OnlyAnAnswerThatNeverBeganIsUnanswered) {
  Script closed("");
  auto e = exchange(closed);
  EXPECT_FALSE(e.res);
  EXPECT_TRUE(e.unanswered);
  for (const char* partial : {"HTTP/1.1 20", "HTTP/1.1 200 OK\n", "HTTP/1.1 200 OK\r\nContent-Le"}) {
    Script s(partial);
    auto p = exchange(s);
    EXPECT_FALSE(p.res) << partial;
    EXPECT_FALSE(p.unanswered) << partial << ": the server began to answer, so the request was received";
  }
}

}  // namespace
}  // namespace tracklight::platform
