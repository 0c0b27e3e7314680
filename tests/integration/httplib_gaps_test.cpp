// What cpp-httplib 0.41's own server still lacks, shown on a plain httplib::Server: each test is
// the reason a piece of platform/internal/ (the intake and the framing) is kept. Should a later
// release close a gap, its test goes red and the piece can go.
#include <gtest/gtest.h>

#include "tests/integration/agent_process.hpp"

namespace tracklight::test {
namespace {

struct PlainServer {
  httplib::Server svr;
  int port = 0;
  std::thread thread;
  explicit PlainServer(size_t workers) {
    svr.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
    svr.set_read_timeout(3);
    svr.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok", "text/plain"); });
    port = svr.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { svr.listen_after_bind(); });
    svr.wait_until_ready();
  }
  ~PlainServer() {
    svr.stop();
    thread.join();
  }
};

// Kept: the intake (http_intake.cpp). The library gives each connection a worker from its first
// byte, and its timeouts restart on every read, so as many slow clients as workers stop the
// server. Ours buffers a request until it is complete before a worker sees it.
TEST(HttplibGaps, SlowClientsHoldTheLibrarysWorkers) {
  PlainServer plain(2);
  ASSERT_GT(plain.port, 0);
  int slow[2];
  for (int& fd : slow) {
    fd = connect_loopback(plain.port);
    ASSERT_GE(fd, 0);
    ASSERT_GT(send(fd, "GET /healthz HTTP/1.1\r\n", 23, MSG_NOSIGNAL), 0);  // and nothing more
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // both are taken by a worker
  RawReply r = raw_request(plain.port, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", 1);
  EXPECT_EQ(r.status, 0) << "the library answered while its workers waited on slow clients: the gap is closed";
  for (int fd : slow) close(fd);
}

// Kept: the framing (http_framing.cpp). The library takes a transfer coding it does not know
// ("xchunked", "identity", "chunked, gzip") for a body that lasts until the connection ends, so
// the request behind it vanishes into that body; a proxy in front that ignored the header would
// have passed it on as a request of its own (RFC 9112 section 6.1: answer 501 or 400 and close).
TEST(HttplibGaps, TheLibraryReadsAnUnknownTransferCodingAsTheRestOfTheConnection) {
  PlainServer plain(2);
  plain.svr.Post("/p", [](const httplib::Request& q, httplib::Response& res) { res.set_content(q.body, "text/plain"); });
  const std::string next = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  RawReply r = raw_request(plain.port, "POST /p HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: xchunked\r\n\r\n" + next, 5);
  EXPECT_EQ(r.status, 200) << r.text;
  EXPECT_NE(r.text.find("GET /healthz"), std::string::npos) << "the next request was not taken as the body: the gap is closed\n"
                                                           << r.text;
}

}  // namespace
}  // namespace tracklight::test
