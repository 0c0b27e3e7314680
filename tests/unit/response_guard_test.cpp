// The caps on an answer's status line, header lines, header count, header block, chunk-size
// lines and total size, fed the way cpp-httplib reads (lines one byte per call).
#include "platform/internal/response_guard.hpp"

#include <gtest/gtest.h>

namespace tracklight::platform {
namespace {

ResponseGuard guard(size_t total = 0) {
  ResponseLimits l;
  l.total_bytes = total;
  return ResponseGuard("GET /rest/api/2/myself", "jira.example", l);
}

// One byte per call, as cpp-httplib's line reader asks. False at the first refused byte.
bool lines(ResponseGuard& g, const std::string& text) {
  for (char c : text)
    if (!g.on_read(&c, 1, 1)) return false;
  return true;
}

std::string header_lines(size_t n, size_t width = 8) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += "X-" + std::string(width - 6, 'a') + ": b\r\n";
  return out;
}

TEST(ResponseGuard, AnOrdinaryAnswerPassesThroughEveryPhase) {
  ResponseGuard g = guard();
  EXPECT_EQ(g.phase_text(), "sending GET /rest/api/2/myself to jira.example");
  g.writing();
  g.reading();
  EXPECT_EQ(g.phase(), ResponseGuard::Phase::StatusLine);
  EXPECT_EQ(g.phase_text(), "waiting for the status line of the answer to GET /rest/api/2/myself from jira.example");
  ASSERT_TRUE(lines(g, "HTTP/1.1 200 OK\r\n"));
  EXPECT_EQ(g.phase_text(), "reading the headers of the answer to GET /rest/api/2/myself from jira.example");
  ASSERT_TRUE(lines(g, header_lines(100) + "\r\n"));
  EXPECT_EQ(g.phase(), ResponseGuard::Phase::Body);
  EXPECT_EQ(g.phase_text(), "reading the body of the answer to GET /rest/api/2/myself from jira.example");
  const std::string body(100000, 'x');  // a body is not lines: no line cap
  EXPECT_TRUE(g.on_read(body.data(), body.size(), 4096));
  EXPECT_FALSE(g.failed());
}

TEST(ResponseGuard, StatusLineIsCappedAt8KiB) {
  ResponseGuard ok = guard();
  EXPECT_TRUE(lines(ok, "HTTP/1.1 200 " + std::string(8192 - 15, 'O') + "\r\n"));  // 8192 with CRLF
  ResponseGuard g = guard();
  EXPECT_FALSE(lines(g, "HTTP/1.1 200 " + std::string(9000, 'O')));
  EXPECT_EQ(g.error().code, ErrorCode::ResponseTooLarge);
  EXPECT_EQ(g.error().detail, "the answer from jira.example to GET /rest/api/2/myself has a status line longer than 8 KiB");
}

TEST(ResponseGuard, HeaderLinesAreCappedAt8KiBAndAtOneHundred) {
  ResponseGuard g = guard();
  EXPECT_FALSE(lines(g, "HTTP/1.1 200 OK\r\nX-A: " + std::string(9000, 'b')));
  EXPECT_NE(g.error().detail.find("has a header line longer than 8 KiB"), std::string::npos) << g.error().detail;
  ResponseGuard many = guard();
  EXPECT_TRUE(lines(many, "HTTP/1.1 200 OK\r\n" + header_lines(100)));
  EXPECT_FALSE(lines(many, header_lines(1)));
  EXPECT_NE(many.error().detail.find("has more than 100 header lines"), std::string::npos) << many.error().detail;
  // A line that ends in a bare LF is not the blank line (cpp-httplib skips it and reads on), so
  // it counts like any other line instead of ending the scan.
  ResponseGuard lf = guard();
  EXPECT_TRUE(lines(lf, "HTTP/1.1 200 OK\r\n\n"));
  EXPECT_EQ(lf.phase(), ResponseGuard::Phase::Headers);
  EXPECT_FALSE(lines(lf, std::string(200, '\n')));
}

TEST(ResponseGuard, TheHeaderBlockIsCappedAt64KiB) {
  ResponseGuard g = guard();
  EXPECT_FALSE(lines(g, "HTTP/1.1 200 OK\r\n" + header_lines(90, 1000)));  // 90 lines, 90 KB
  EXPECT_NE(g.error().detail.find("has more than 64 KiB of headers"), std::string::npos) << g.error().detail;
}

TEST(ResponseGuard, InterimAnswersCountWithTheFinalOne) {
  ResponseGuard g = guard();
  ASSERT_TRUE(lines(g, "HTTP/1.1 100 Continue\r\n\r\n"));
  EXPECT_EQ(g.phase(), ResponseGuard::Phase::StatusLine);
  ASSERT_TRUE(lines(g, "HTTP/1.1 200 OK\r\n" + header_lines(3) + "\r\n"));
  EXPECT_EQ(g.phase(), ResponseGuard::Phase::Body);
  ResponseGuard endless = guard();
  std::string interim;
  for (int i = 0; i < 3000; ++i) interim += "HTTP/1.1 100 Continue\r\n\r\n";
  EXPECT_FALSE(lines(endless, interim));
  EXPECT_NE(endless.error().detail.find("64 KiB of headers"), std::string::npos);
}

TEST(ResponseGuard, ChunkSizeLinesAreCappedAndChunkDataIsNot) {
  ResponseGuard g = guard();
  ASSERT_TRUE(lines(g, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"));
  // One-byte chunks: a 1-byte data read, then the CRLF line, again and again.
  for (int i = 0; i < 20000; ++i) ASSERT_TRUE(lines(g, "1\r\nx\r\n")) << i;
  const std::string data(5000, 'x');
  EXPECT_TRUE(lines(g, "1388\r\n"));
  EXPECT_TRUE(g.on_read(data.data(), 4096, 4096));
  EXPECT_TRUE(g.on_read(data.data(), 904, 904));
  EXPECT_TRUE(lines(g, "\r\n"));
  EXPECT_FALSE(lines(g, std::string(9000, '1')));
  EXPECT_NE(g.error().detail.find("has a chunk-size line longer than 8 KiB"), std::string::npos) << g.error().detail;
}

TEST(ResponseGuard, TheWholeAnswerIsCapped) {
  ResponseGuard g = guard(10000);
  ASSERT_TRUE(lines(g, "HTTP/1.1 200 OK\r\n\r\n"));
  const std::string data(4096, 'x');
  EXPECT_TRUE(g.on_read(data.data(), data.size(), 4096));
  EXPECT_TRUE(g.on_read(data.data(), data.size(), 4096));
  EXPECT_FALSE(g.on_read(data.data(), data.size(), 4096));
  EXPECT_EQ(g.error().detail, "the answer from jira.example to GET /rest/api/2/myself is larger than 9 KiB");
  EXPECT_FALSE(g.on_read("x", 1, 1)) << "a refused answer stays refused";
  EXPECT_EQ(limits_for_body(4 << 20).total_bytes, (64u << 10) + (5u << 20));
}

}  // namespace
}  // namespace tracklight::platform
