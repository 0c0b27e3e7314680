// What cpp-httplib 0.41's own server still lacks, shown on a plain httplib::Server: each test is
// the reason a piece of platform/internal/ (the intake and the framing) is kept. Should a later
// release close a gap, its test goes red and the piece can go.
#include <gtest/gtest.h>

#include <atomic>

#include "tests/integration/agent_process.hpp"

namespace tracklight::test {
namespace {

struct PlainServer {
  httplib::Server svr;
  int port = 0;
  std::thread thread;
  // The library's defaults, but a short read timeout and, when `workers` is given, a pool of
  // exactly that many threads.
  explicit PlainServer(size_t workers = 0) {
    if (workers > 0) svr.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
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
  // A fixed pool of two workers, so what holds them is only the slow clients: with the library's
  // growing pool (up to CPPHTTPLIB_THREAD_POOL_MAX_COUNT threads) and its listen backlog of 5,
  // how many of many clients got a worker depended on the machine's load, and the probe was
  // sometimes answered. The gap is the same at any pool size.
  PlainServer plain(2);
  ASSERT_GT(plain.port, 0);
  // Twice as many clients as workers, each sending a byte a second: less than the read timeout
  // apart (with room for a busy machine's scheduling), so none of them ever times out; the
  // probe queues behind them. They keep trickling until the probe has given up: were they to
  // stop earlier, their workers would time out and free up while the probe still waits.
  const size_t clients = 4;
  const std::string req = "GET /healthz HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
  std::vector<int> slow;
  for (size_t i = 0; i < clients; ++i) slow.push_back(connect_loopback(plain.port));
  size_t at = 0;
  auto send_next_byte = [&] {
    for (int fd : slow) send(fd, req.data() + at, 1, MSG_NOSIGNAL);
    ++at;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  };
  while (at < 5) send_next_byte();  // 5 s, longer than the read timeout
  std::atomic<bool> probing{true};
  std::thread trickle([&] {
    while (probing && at < req.size()) send_next_byte();
  });
  RawReply r = raw_request(plain.port, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", 2);
  probing = false;
  trickle.join();
  EXPECT_EQ(r.status, 0) << "the library answered while slow clients trickled: the gap is closed";
  for (int fd : slow) close(fd);
  // The same server answers once they are gone: it was they that held it.
  r = raw_request(plain.port, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", 10);
  EXPECT_EQ(r.status, 200);
}

// Kept: the framing (http_framing.cpp). The library takes a transfer coding it does not know
// ("xchunked", "identity", "chunked, gzip") for a body that lasts until the connection ends, so
// the request behind it vanishes into that body; a proxy in front that ignored the header would
// have passed it on as a request of its own (RFC 9112 section 6.1: answer 501 or 400 and close).
TEST(HttplibGaps, TheLibraryReadsAnUnknownTransferCodingAsTheRestOfTheConnection) {
  PlainServer plain;
  plain.svr.Post("/p", [](const httplib::Request& q, httplib::Response& res) { res.set_content(q.body, "text/plain"); });
  const std::string next = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  RawReply r = raw_request(plain.port, "POST /p HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: xchunked\r\n\r\n" + next, 5);
  EXPECT_EQ(r.status, 200) << r.text;
  EXPECT_NE(r.text.find("GET /healthz"), std::string::npos) << "the next request was not taken as the body: the gap is closed\n"
                                                           << r.text;
}

}  // namespace
}  // namespace tracklight::test
