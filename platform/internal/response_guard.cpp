#include "platform/internal/response_guard.hpp"

#include <cstring>

namespace tracklight::platform {
namespace {

std::string kib(size_t bytes) { return std::to_string(bytes >> 10) + " KiB"; }

}  // namespace

ResponseLimits limits_for_body(size_t max_body) {
  ResponseLimits l;
  l.total_bytes = l.header_bytes + max_body + max_body / 4;
  return l;
}

ResponseGuard::ResponseGuard(std::string request, std::string host, ResponseLimits limits)
    : request_(std::move(request)), host_(std::move(host)), limits_(limits) {}

void ResponseGuard::writing() {
  if (phase_ == Phase::StatusLine && total_ == 0) phase_ = Phase::Request;
}

void ResponseGuard::reading() {
  if (phase_ == Phase::Request) phase_ = Phase::StatusLine;
}

std::string ResponseGuard::phase_text() const {
  static const char* const kDoing[] = {"sending ", "waiting for the status line of the answer to ",
                                       "reading the headers of the answer to ", "reading the body of the answer to "};
  return kDoing[static_cast<int>(phase_)] + request_ + (phase_ == Phase::Request ? " to " : " from ") + host_;
}

bool ResponseGuard::fail(const std::string& detail) {
  failed_ = true;
  error_ = Error{ErrorCode::ResponseTooLarge, request_, 0, "the answer from " + host_ + " to " + request_ + " " + detail};
  return false;
}

bool ResponseGuard::on_read(const char* data, size_t n, size_t asked) {
  if (failed_) return false;
  reading();
  total_ += n;
  if (limits_.total_bytes && total_ > limits_.total_bytes) return fail("is larger than " + kib(limits_.total_bytes));
  if (phase_ == Phase::Body) return body_bytes(data, n, asked);
  for (size_t i = 0; i < n; ++i) {
    if (!header_byte(data[i])) return false;
    if (phase_ == Phase::Body) return body_bytes(data + i + 1, n - i - 1, asked);
  }
  return true;
}

bool ResponseGuard::body_bytes(const char* data, size_t n, size_t asked) {
  if (asked != 1) {
    body_line_bytes_ = 0;
    return true;
  }
  if (n == 1 && *data == '\n') {
    body_line_bytes_ = 0;
    return true;
  }
  body_line_bytes_ += n;
  if (body_line_bytes_ > limits_.line_bytes) return fail("has a chunk-size line longer than " + kib(limits_.line_bytes));
  return true;
}

bool ResponseGuard::header_byte(char c) {
  ++line_bytes_;
  if (++header_bytes_ > limits_.header_bytes) return fail("has more than " + kib(limits_.header_bytes) + " of headers");
  const bool status = phase_ == Phase::StatusLine;
  if (status && line_bytes_ <= sizeof status_start_) status_start_[line_bytes_ - 1] = c;
  if (c != '\n') {
    last_was_cr_ = c == '\r';
    if (line_bytes_ > limits_.line_bytes)
      return fail(std::string(status ? "has a status line" : "has a header line") + " longer than " + kib(limits_.line_bytes));
    return true;
  }
  const bool blank = line_bytes_ == 2 && last_was_cr_;
  line_bytes_ = 0;
  last_was_cr_ = false;
  if (status) {
    // cpp-httplib skips "100 Continue" and reads the next status line; other 1xx end there.
    interim_ = std::memcmp(status_start_, "HTTP/1.", 7) == 0 && status_start_[8] == ' ' && status_start_[9] == '1';
    phase_ = Phase::Headers;
    return true;
  }
  if (blank) {
    phase_ = interim_ ? Phase::StatusLine : Phase::Body;
    interim_ = false;
    return true;
  }
  if (++lines_ > limits_.header_lines) return fail("has more than " + std::to_string(limits_.header_lines) + " header lines");
  return true;
}

}  // namespace tracklight::platform
