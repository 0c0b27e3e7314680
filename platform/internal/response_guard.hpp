// Internal to platform/: watches the bytes of one HTTP exchange as cpp-httplib reads them, so a
// hostile server cannot make the client hold an endless status line, endless header lines or an
// endless header block in memory (cpp-httplib 0.11.4 caps none of them while reading), and so a
// timeout can say which phase of the exchange ran out of time.
//
// The scan follows cpp-httplib's own reading: a line ends at '\n', the header block ends at a
// line that is exactly "\r\n", and a 1xx status line is followed by the real one (its limits
// count together with the final answer's). In the body, cpp-httplib reads chunk-size lines one
// byte per call, and chunk data in larger calls (a 1-byte call for data is always followed by a
// line end), so a long run of 1-byte reads without '\n' is a framing line growing without end.
// Errors are ResponseTooLarge with `op` the request.
// Thread-safety: one exchange, one thread.
#pragma once
#include <cstddef>
#include <string>
#include "platform/result.hpp"

namespace tracklight::platform {

struct ResponseLimits {
  size_t line_bytes = 8 * 1024;     // the status line and each header line, CRLF included
  size_t header_lines = 100;
  size_t header_bytes = 64 * 1024;  // status line plus every header line and the blank line
  size_t total_bytes = 0;           // everything read for this answer; 0 = no limit
};

// The caps for an answer whose body may hold up to `max_body` bytes: the header block plus the
// body plus a quarter for chunked framing.
ResponseLimits limits_for_body(size_t max_body);

class ResponseGuard {
 public:
  enum class Phase { Request, StatusLine, Headers, Body };

  ResponseGuard() = default;
  // request: "GET /rest/api/2/myself" or "CONNECT host:443"; host: who answers.
  ResponseGuard(std::string request, std::string host, ResponseLimits limits);

  void writing();  // the request is (still) being sent
  void reading();  // a read starts: after the request, that is the status line
  // Checks bytes just read by a call that asked for `asked` bytes. False when a cap is passed;
  // error() then says which.
  bool on_read(const char* data, size_t n, size_t asked);

  Phase phase() const { return phase_; }
  // "reading the headers of the answer to GET /x from host"; follows "timed out ".
  std::string phase_text() const;
  bool failed() const { return failed_; }
  const Error& error() const { return error_; }

 private:
  bool header_byte(char c);
  bool body_bytes(const char* data, size_t n, size_t asked);
  bool fail(const std::string& detail);

  std::string request_, host_;
  ResponseLimits limits_;
  Phase phase_ = Phase::Request;
  size_t line_bytes_ = 0, lines_ = 0, header_bytes_ = 0, total_ = 0, body_line_bytes_ = 0;
  char status_start_[10] = {};  // "HTTP/1.1 1" marks an interim answer
  bool interim_ = false, last_was_cr_ = false, failed_ = false;
  Error error_;
};

}  // namespace tracklight::platform
