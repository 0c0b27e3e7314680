#include "platform/internal/http_framing.hpp"

#include <cstring>

namespace tracklight::platform {
namespace {

constexpr size_t kMaxChunkLine = 1024;  // size and extensions; no client needs more

Framing refuse(int status, const char* rule, const char* message) {
  Framing f;
  f.kind = Framing::Refused;
  f.status = status;
  f.rule = rule;
  f.message = message;
  return f;
}

bool is_tchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr);
}

bool iequals(const char* s, size_t n, const char* lower_word) {
  if (std::strlen(lower_word) != n) return false;
  for (size_t i = 0; i < n; ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower_word[i]) return false;
  }
  return true;
}

bool has_nul_or_cr(const char* s, size_t n) {
  return std::memchr(s, '\0', n) != nullptr || std::memchr(s, '\r', n) != nullptr;
}

// The index of the '\n' ending the line at `pos`, looking at most `max` bytes ahead; npos if
// it has not arrived.
size_t line_end(const char* data, size_t len, size_t pos, size_t max) {
  size_t n = len - pos < max ? len - pos : max;
  const void* nl = std::memchr(data + pos, '\n', n);
  return nl ? static_cast<size_t>(static_cast<const char*>(nl) - data) : std::string::npos;
}

struct Head {
  bool http10 = false;
  bool has_length = false, chunked = false, expect_continue = false;
  size_t length = 0;
};

// One header field; fills `h` from the framing fields. Returns a refusal, or kind Complete.
Framing read_field(const char* s, size_t n, const FramingLimits& lim, Head& h) {
  if (s[0] == ' ' || s[0] == '\t')
    return refuse(400, "obs_fold", "a header line starts with white space (obs-fold); send each header on one line");
  if (has_nul_or_cr(s, n)) return refuse(400, "control_character", "a header contains a NUL or a bare CR");
  const char* colon = static_cast<const char*>(std::memchr(s, ':', n));
  if (!colon) return refuse(400, "header_without_colon", "a header line has no colon");
  size_t name_len = static_cast<size_t>(colon - s);
  if (name_len == 0) return refuse(400, "bad_header_name", "a header line has an empty name");
  for (size_t i = 0; i < name_len; ++i)
    if (!is_tchar(s[i])) return refuse(400, "bad_header_name", "a header name contains white space or a separator");
  const char* v = colon + 1;
  const char* end = s + n;
  while (v < end && (*v == ' ' || *v == '\t')) ++v;
  while (end > v && (end[-1] == ' ' || end[-1] == '\t')) --end;
  size_t vlen = static_cast<size_t>(end - v);
  if (iequals(s, name_len, "content-length")) {
    if (h.has_length) return refuse(400, "content_length_repeated", "Content-Length is sent more than once");
    if (vlen == 0) return refuse(400, "content_length_invalid", "Content-Length must be a decimal number");
    for (size_t i = 0; i < vlen; ++i)
      if (v[i] < '0' || v[i] > '9') return refuse(400, "content_length_invalid", "Content-Length must be a decimal number");
    h.has_length = true;
    for (size_t i = 0; i < vlen; ++i) {
      h.length = h.length * 10 + static_cast<size_t>(v[i] - '0');
      if (h.length > lim.max_body) return refuse(413, "body_too_large", "the request body exceeds 64 KiB");
    }
  } else if (iequals(s, name_len, "transfer-encoding")) {
    if (h.chunked) return refuse(400, "transfer_encoding_repeated", "Transfer-Encoding is sent more than once");
    if (!iequals(v, vlen, "chunked"))
      return refuse(400, "transfer_encoding_unsupported", "the only Transfer-Encoding accepted is chunked");
    h.chunked = true;
  } else if (iequals(s, name_len, "expect")) {
    if (!iequals(v, vlen, "100-continue")) return refuse(417, "expectation_unsupported", "the only Expect accepted is 100-continue");
    h.expect_continue = true;
  }
  Framing ok;
  ok.kind = Framing::Complete;
  return ok;
}

// The chunked body from `pos`: Complete with its end, Incomplete, or Refused.
Framing frame_chunked(const char* data, size_t len, size_t pos, const FramingLimits& lim) {
  size_t p = pos, body = 0;
  Framing more;  // Incomplete
  for (;;) {
    size_t e = line_end(data, len, p, kMaxChunkLine);
    if (e == std::string::npos)
      return len - p >= kMaxChunkLine ? refuse(400, "bad_chunk", "a chunk-size line is longer than 1 KiB") : more;
    if (e == p || data[e - 1] != '\r') return refuse(400, "bare_lf", "a chunk-size line ends in a bare LF; end lines with CRLF");
    size_t size = 0, i = p;
    for (; i < e - 1; ++i) {
      char c = data[i];
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) break;
      size = size * 16 + static_cast<size_t>(d);
      if (size > lim.max_body) return refuse(413, "body_too_large", "the request body exceeds 64 KiB");
    }
    size_t j = i;
    while (j < e - 1 && (data[j] == ' ' || data[j] == '\t')) ++j;
    if (i == p || (j < e - 1 && data[j] != ';') || has_nul_or_cr(data + i, e - 1 - i))
      return refuse(400, "bad_chunk", "a chunk size is not a hexadecimal number");
    p = e + 1;
    if (size == 0) {
      if (len - p < 2) return more;
      if (data[p] != '\r' || data[p + 1] != '\n') return refuse(400, "chunk_trailer", "chunked trailers are not accepted");
      Framing f;
      f.kind = Framing::Complete;
      f.total_bytes = p + 2;
      return f;
    }
    body += size;
    // Tiny chunks could make the buffered bytes far larger than the body they decode to.
    if (body > lim.max_body || p - pos > 2 * lim.max_body)
      return refuse(413, "body_too_large", "the request body exceeds 64 KiB");
    if (len - p < size + 2) return more;
    if (data[p + size] != '\r' || data[p + size + 1] != '\n')
      return refuse(400, "bad_chunk", "a chunk is longer than its size says");
    p += size + 2;
  }
}

}  // namespace

Framing frame_request(const char* data, size_t len, const FramingLimits& lim) {
  Framing more;  // Incomplete
  size_t e = line_end(data, len, 0, lim.max_request_line + 2);
  if (e == std::string::npos)
    return len > lim.max_request_line + 1 ? refuse(414, "uri_too_long", "the request line exceeds 8 KiB") : more;
  if (e == 0 || data[e - 1] != '\r') return refuse(400, "bare_lf", "the request line ends in a bare LF; end lines with CRLF");
  if (e == 1) return refuse(400, "bad_request_line", "the request starts with an empty line");
  if (has_nul_or_cr(data, e - 1)) return refuse(400, "control_character", "the request line contains a NUL or a bare CR");
  Head h;
  h.http10 = e - 1 >= 8 && std::memcmp(data + e - 9, "HTTP/1.0", 8) == 0;
  size_t pos = e + 1, header_bytes = 0, count = 0;
  for (;;) {
    size_t room = lim.max_header_bytes - header_bytes + 2;
    e = line_end(data, len, pos, room);
    if (e == std::string::npos)
      return len - pos >= room ? refuse(431, "headers_too_large", "the request headers exceed 8 KiB") : more;
    if (e == pos || data[e - 1] != '\r') return refuse(400, "bare_lf", "a header line ends in a bare LF; end lines with CRLF");
    size_t n = e - 1 - pos;
    if (n == 0) break;
    header_bytes += n + 2;
    if (header_bytes > lim.max_header_bytes) return refuse(431, "headers_too_large", "the request headers exceed 8 KiB");
    if (++count > lim.max_headers) return refuse(431, "headers_too_many", "the request has more than 100 headers");
    Framing field = read_field(data + pos, n, lim, h);
    if (field.kind == Framing::Refused) return field;
    pos = e + 1;
  }
  pos = e + 1;
  if (h.has_length && h.chunked)
    return refuse(400, "length_and_chunked", "the request has both Content-Length and Transfer-Encoding");
  if (h.chunked && h.http10) return refuse(400, "chunked_http10", "Transfer-Encoding is not allowed in HTTP/1.0");
  Framing f;
  if (h.chunked) f = frame_chunked(data, len, pos, lim);
  else if (len - pos >= h.length) f.kind = Framing::Complete, f.total_bytes = pos + h.length;
  if (f.kind == Framing::Refused) return f;
  f.head_bytes = pos;
  f.expect_continue = h.expect_continue;
  return f;
}

}  // namespace tracklight::platform
