// Where one HTTP/1.1 request ends in a buffer of received bytes (RFC 9112 section 6.3), decided
// before cpp-httplib sees any of it. The server hands cpp-httplib exactly these bytes, so a body
// it does not read (GET with Content-Length, an early error answer) can never run as the next
// request, and ambiguous framing is refused instead of being guessed.
//
// Strict on purpose: both Content-Length and Transfer-Encoding, a malformed or repeated
// Content-Length, a transfer coding other than `chunked`, obs-fold, header lines without a
// colon or with space before it, NUL, bare CR and bare LF are all refused with 400 (bare LF is
// allowed by RFC 9112 section 2.2 but no browser or curl sends it, and accepting it is how
// parsers come to disagree).
#pragma once
#include <cstddef>
#include <string>

namespace tracklight::platform {

struct FramingLimits {
  size_t max_request_line = 8 * 1024;  // 414 beyond
  size_t max_header_bytes = 8 * 1024;  // all header lines together; 431 beyond
  size_t max_headers = 100;            // 431 beyond
  size_t max_body = 64 * 1024;         // decoded body; 413 beyond
};

struct Framing {
  enum Kind { Incomplete, Complete, Refused } kind = Incomplete;
  size_t head_bytes = 0;   // request line, headers and the blank line; 0 while the head is incomplete
  size_t total_bytes = 0;  // head and body, when Complete
  bool expect_continue = false;
  int status = 0;          // when Refused: 400, 413, 414, 417 or 431
  const char* rule = "";   // when Refused: short name of the check, for the log
  const char* message = "";  // when Refused: for the client (plain text, no quotes)
};

Framing frame_request(const char* data, size_t len, const FramingLimits& limits);

}  // namespace tracklight::platform
