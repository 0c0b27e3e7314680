// Where a request ends, and which framings are refused (RFC 9112 sections 6.3 and 11.2).
#include <gtest/gtest.h>

#include "platform/internal/http_framing.hpp"

namespace tracklight::platform {
namespace {

Framing frame(const std::string& bytes) { return frame_request(bytes.data(), bytes.size(), FramingLimits{}); }

const std::string kHead = "POST /api/v1/login HTTP/1.1\r\nHost: 127.0.0.1\r\n";

void expect_refused(const std::string& bytes, int status, const std::string& rule) {
  Framing f = frame(bytes);
  EXPECT_EQ(f.kind, Framing::Refused) << bytes;
  EXPECT_EQ(f.status, status) << bytes;
  EXPECT_EQ(std::string(f.rule), rule) << bytes;
}

TEST(HttpFraming, ARequestEndsAtItsBodyAndNotBefore) {
  std::string req = kHead + "Content-Length: 2\r\n\r\n{}";
  for (size_t n = 0; n < req.size(); ++n) EXPECT_EQ(frame(req.substr(0, n)).kind, Framing::Incomplete) << n;
  Framing f = frame(req + "GET / HTTP/1.1\r\n");
  ASSERT_EQ(f.kind, Framing::Complete);
  EXPECT_EQ(f.total_bytes, req.size());
  EXPECT_EQ(f.head_bytes, req.size() - 2);
}

TEST(HttpFraming, NoLengthMeansNoBody) {
  std::string req = "POST /api/v1/board/key HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  Framing f = frame(req + "PUT /x HTTP/1.1\r\n");
  ASSERT_EQ(f.kind, Framing::Complete);
  EXPECT_EQ(f.total_bytes, req.size());
}

TEST(HttpFraming, AGetBodyBelongsToTheGet) {
  std::string req = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello";
  Framing f = frame(req);
  ASSERT_EQ(f.kind, Framing::Complete);
  EXPECT_EQ(f.total_bytes, req.size());
}

TEST(HttpFraming, ChunkedBodiesEndAtTheLastChunk) {
  std::string req = kHead + "Transfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3;ext=1\r\n:1}\r\n0\r\n\r\n";
  for (size_t n = 0; n < req.size(); ++n) EXPECT_EQ(frame(req.substr(0, n)).kind, Framing::Incomplete) << n;
  Framing f = frame(req + "GET");
  ASSERT_EQ(f.kind, Framing::Complete);
  EXPECT_EQ(f.total_bytes, req.size());
  EXPECT_EQ(frame(kHead + "Transfer-Encoding: Chunked\r\n\r\n0\r\n\r\n").kind, Framing::Complete);
}

TEST(HttpFraming, AmbiguousLengthsAreRefused) {
  expect_refused(kHead + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "length_and_chunked");
  expect_refused(kHead + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400, "length_and_chunked");
  for (const char* v : {"+5", "5abc", "-1", "0x5", "5 5", "", "5,5"})
    expect_refused(kHead + "Content-Length: " + v + "\r\n\r\n", 400, "content_length_invalid");
  expect_refused(kHead + "Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}", 400, "content_length_repeated");
  for (const char* v : {"xchunked", "identity", "chunked, gzip", "gzip, chunked", "chunked;q=1"})
    expect_refused(kHead + "Transfer-Encoding: " + v + "\r\n\r\n", 400, "transfer_encoding_unsupported");
  expect_refused(kHead + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "transfer_encoding_repeated");
  expect_refused("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "chunked_http10");
}

TEST(HttpFraming, MalformedHeaderLinesAreRefused) {
  expect_refused(kHead + "X-A: b\r\n  folded\r\n\r\n", 400, "obs_fold");
  expect_refused(kHead + "\tX-A: b\r\n\r\n", 400, "obs_fold");
  expect_refused(kHead + "no colon here\r\n\r\n", 400, "header_without_colon");
  expect_refused(kHead + "Content-Length : 5\r\n\r\nhello", 400, "bad_header_name");
  expect_refused(kHead + ": empty\r\n\r\n", 400, "bad_header_name");
  expect_refused(kHead + std::string("X-A: b\0c\r\n\r\n", 12), 400, "control_character");
  expect_refused(kHead + "X-A: b\rc\r\n\r\n", 400, "control_character");
  expect_refused(std::string("GET /\0 HTTP/1.1\r\n\r\n", 19), 400, "control_character");
  expect_refused("GET / HTTP/1.1\nHost: a\r\n\r\n", 400, "bare_lf");
  expect_refused(kHead + "X-A: b\n\r\n", 400, "bare_lf");
  expect_refused(kHead + "\n", 400, "bare_lf");
  expect_refused("\r\nGET / HTTP/1.1\r\n\r\n", 400, "bad_request_line");
}

TEST(HttpFraming, BadChunksAreRefused) {
  const std::string te = kHead + "Transfer-Encoding: chunked\r\n\r\n";
  expect_refused(te + "zz\r\n", 400, "bad_chunk");
  expect_refused(te + "-1\r\n", 400, "bad_chunk");
  expect_refused(te + "2\r\nabc\r\n", 400, "bad_chunk");
  expect_refused(te + "0\r\nX-Trailer: 1\r\n\r\n", 400, "chunk_trailer");
  expect_refused(te + "10001\r\n", 413, "body_too_large");
  std::string tiny;
  for (int i = 0; i < 30000; ++i) tiny += "1\r\nx\r\n";
  expect_refused(te + tiny, 413, "body_too_large");
}

TEST(HttpFraming, SizesAreBoundedBeforeTheRequestEnds) {
  expect_refused("GET /" + std::string(9000, 'a'), 414, "uri_too_long");
  EXPECT_EQ(frame("GET /" + std::string(8000, 'a')).kind, Framing::Incomplete);
  expect_refused(kHead + "X-A: " + std::string(9000, 'b'), 431, "headers_too_large");
  std::string many = kHead;
  for (int i = 0; i < 100; ++i) many += "X-" + std::to_string(i) + ": 1\r\n";
  expect_refused(many, 431, "headers_too_many");
  expect_refused(kHead + "Content-Length: 65537\r\n\r\n", 413, "body_too_large");
  expect_refused(kHead + "Content-Length: 99999999999999999999999999\r\n\r\n", 413, "body_too_large");
  EXPECT_EQ(frame(kHead + "Content-Length: 65536\r\n\r\n").kind, Framing::Incomplete);
}

TEST(HttpFraming, ExpectIsOnly100Continue) {
  Framing f = frame(kHead + "Expect: 100-continue\r\nContent-Length: 2\r\n\r\n");
  EXPECT_EQ(f.kind, Framing::Incomplete);
  EXPECT_TRUE(f.expect_continue);
  EXPECT_GT(f.head_bytes, 0u);
  expect_refused(kHead + "Expect: magic\r\n\r\n", 417, "expectation_unsupported");
}

}  // namespace
}  // namespace tracklight::platform
