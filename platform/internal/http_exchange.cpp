#include "platform/internal/http_exchange.hpp"

#include <strings.h>

#include <algorithm>
#include <cstdint>

namespace tracklight::platform {

namespace {

constexpr size_t kMaxLine = 64 * 1024;  // the guard's caps are lower; this holds without one (fuzzer)

bool iequal(const std::string& a, const char* b) { return strcasecmp(a.c_str(), b) == 0; }

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// The answer being read; every failure is kept as `why` for the caller's message.
class Reader {
 public:
  Reader(httplib::Stream& strm, size_t max_bytes) : strm_(strm), max_(max_bytes) {}

  // A line ending in CRLF, without it; false at the end of the stream or a broken line.
  bool line(std::string& out) {
    out.clear();
    char c;
    while (out.size() < kMaxLine) {
      const ssize_t got = strm_.read(&c, 1);
      if (got != 1) {
        closed_ = got == 0;
        return fail(out.empty() ? "the connection closed" : "the connection closed inside a line");
      }
      if (c == '\n') {
        if (out.empty() || out.back() != '\r') return fail("a line does not end in CRLF");
        out.pop_back();
        return true;
      }
      out += c;
    }
    return fail("a line is longer than 64 KiB");
  }
  // `n` bytes appended to `body`, within the cap.
  bool block(std::string& body, uint64_t n) {
    if (body.size() > max_ || n > max_ - body.size()) return too_large();
    char buf[16384];
    while (n > 0) {
      const ssize_t got = strm_.read(buf, static_cast<size_t>(std::min<uint64_t>(n, sizeof buf)));
      if (got <= 0) return fail("the connection closed inside the body");
      body.append(buf, static_cast<size_t>(got));
      n -= static_cast<size_t>(got);
    }
    return true;
  }
  // Everything until the peer closes.
  bool rest(std::string& body) {
    char buf[16384];
    for (;;) {
      const ssize_t got = strm_.read(buf, sizeof buf);
      if (got == 0) return true;
      if (got < 0) return fail("the connection failed inside the body");
      if (static_cast<size_t>(got) > max_ - body.size()) return too_large();
      body.append(buf, static_cast<size_t>(got));
    }
  }
  bool fail(const char* why) {
    why_ = why;
    return false;
  }
  bool too_large() {
    too_large_ = true;
    return false;
  }
  const char* why() const { return why_; }
  bool peer_closed() const { return closed_; }  // the last read found the end of the stream
  bool was_too_large() const { return too_large_; }

 private:
  httplib::Stream& strm_;
  size_t max_;
  const char* why_ = "";
  bool too_large_ = false, closed_ = false;
};

// "HTTP/1.1 200 OK": the status, or 0.
int status_of(const std::string& line, bool& http11) {
  if (line.size() < 12 || line.compare(0, 7, "HTTP/1.") != 0 || (line[7] != '0' && line[7] != '1') || line[8] != ' ')
    return 0;
  if (line.size() > 12 && line[12] != ' ') return 0;
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return 0;
    status = status * 10 + (line[i] - '0');
  }
  http11 = line[7] == '1';
  return status >= 100 ? status : 0;
}

bool headers(Reader& in, HeaderList& out) {
  std::string l;
  for (;;) {
    if (!in.line(l)) return false;
    if (l.empty()) return true;
    const size_t colon = l.find(':');
    if (colon == 0 || colon == std::string::npos) return in.fail("a header line has no name");
    // A folded line (obs-fold) or a space before the colon could make one header read as another.
    if (l.find_first_of(" \t") < colon) return in.fail("a header name holds a space, or a header line is folded");
    out.emplace_back(l.substr(0, colon), trim(l.substr(colon + 1)));
  }
}

bool chunked(Reader& in, std::string& body) {
  std::string l;
  for (;;) {
    if (!in.line(l)) return false;
    const std::string size = trim(l.substr(0, l.find(';')));
    if (size.empty() || size.size() > 15 || size.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
      return in.fail("a chunk size is not a hexadecimal number");
    const uint64_t n = std::stoull(size, nullptr, 16);  // 15 hex digits fit; block() caps it
    if (n == 0) break;
    if (!in.block(body, n) || !in.line(l)) return false;
    if (!l.empty()) return in.fail("a chunk does not end where its size says");
  }
  for (;;) {  // the trailer, up to its blank line
    if (!in.line(l)) return false;
    if (l.empty()) return true;
  }
}

// Control characters (or, in the request line, spaces) would end a line early: one field could
// then add headers or a second request. The firmware validates what it puts there; this holds
// whatever a caller passes.
bool one_line(const std::string& s, bool spaces) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f || (!spaces && c == ' ')) return c == '\t' && spaces;
  return true;
}

// The request's bytes, or "" when a field would break its framing.
std::string request_text(const OutgoingRequest& r) {
  if (!one_line(r.method, false) || !one_line(r.target, false) || r.target.empty() || !one_line(r.host_header, false) ||
      !one_line(r.content_type, true))
    return "";
  std::string out = r.method + " " + r.target + " HTTP/1.1\r\nHost: " + r.host_header + "\r\n";
  bool accept = false;
  for (const auto& h : r.headers) {
    if (h.first.empty() || !one_line(h.first, false) || h.first.find(':') != std::string::npos || !one_line(h.second, true))
      return "";
    out += h.first + ": " + h.second + "\r\n";
    accept = accept || iequal(h.first, "Accept");
  }
  if (!accept) out += "Accept: */*\r\n";
  out += "User-Agent: tracklight/" TRACKLIGHT_VERSION "\r\n";
  if (!r.content_type.empty()) out += "Content-Type: " + r.content_type + "\r\n";
  if (r.method == "POST" || r.method == "PUT" || !r.body.empty()) out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  return out + "\r\n" + r.body;
}

// A comma-separated header value holds `token` (case-insensitive).
bool has_token(const std::string& value, const char* token) {
  for (size_t at = 0; at <= value.size();) {
    const size_t end = std::min(value.find(',', at), value.size());
    if (iequal(trim(value.substr(at, end - at)), token)) return true;
    at = end + 1;
  }
  return false;
}

}  // namespace

Result<HttpsResponse> http_exchange(httplib::Stream& strm, const OutgoingRequest& req, size_t max_bytes,
                                    const std::string& host, bool& reusable, bool* unanswered) {
  reusable = false;
  if (unanswered) *unanswered = false;
  const std::string what = req.method + " " + req.target.substr(0, req.target.find('?'));
  auto bad = [&](const std::string& why) {
    return Error{ErrorCode::BadResponse, what, 0, "no valid HTTP answer from " + host + " (" + why + ")"};
  };
  const std::string text = request_text(req);
  if (text.empty())
    return Error{ErrorCode::BadInput, what.substr(0, what.find_first_of("\r\n")), 0,
                 "the request to " + host + " has a control character in its path or a header"};
  for (size_t sent = 0; sent < text.size();) {
    const ssize_t n = strm.write(text.data() + sent, text.size() - sent);
    if (n <= 0) return bad("the request could not be sent");
    sent += static_cast<size_t>(n);
  }
  Reader in(strm, max_bytes);
  HttpsResponse res;
  bool http11 = false;
  std::string l;
  if (!in.line(l)) {
    if (unanswered) *unanswered = l.empty() && in.peer_closed();
    return bad(in.why());
  }
  if (unanswered) *unanswered = false;
  for (bool first = true;; first = false) {  // interim answers (100 Continue, 103 Early Hints) come first
    res.headers.clear();
    if (!first && !in.line(l)) return bad(in.why());
    res.status = status_of(l, http11);
    if (!res.status) return bad("not an HTTP/1.x status line");
    if (!headers(in, res.headers)) return bad(in.why());
    if (res.status == 101) return bad("it switched protocols, which was not asked for");
    if (res.status >= 200) break;
  }
  // Framing (RFC 9112 6.3), decided on all the headers together so their order cannot matter.
  bool keep_alive = false, close = false, sized = false, chunks = false;
  int coded = 0;  // Transfer-Encoding headers
  uint64_t length = 0;
  for (const auto& h : res.headers) {
    if (iequal(h.first, "Connection")) close = close || has_token(h.second, "close"), keep_alive = keep_alive || has_token(h.second, "keep-alive");
    if (iequal(h.first, "Transfer-Encoding")) {
      chunks = ++coded == 1 && iequal(h.second, "chunked");  // only "chunked" alone is read as chunks
    }
    if (iequal(h.first, "Content-Length")) {
      if (h.second.empty() || h.second.size() > 15 || h.second.find_first_not_of("0123456789") != std::string::npos)
        return bad("its Content-Length is not a number");
      const uint64_t n = std::stoull(h.second);
      if (sized && n != length) return bad("it gives two different Content-Lengths");
      sized = true;
      length = n;
    }
  }
  // CONNECT: after a 2xx the tunnel starts; any other answer ends the connection, unread.
  const bool none = req.method == "HEAD" || req.method == "CONNECT" || res.status == 204 || res.status == 304;
  bool ok = true;
  if (none) {
    close = close || req.method == "CONNECT";
  } else if (coded) {
    // A coding besides chunked, or chunked with Content-Length too (a smuggling pattern), or
    // chunked from HTTP/1.0: read to the end of the connection, which is not used again.
    if (chunks && http11) ok = chunked(in, res.body);
    else ok = in.rest(res.body);
    close = close || !chunks || !http11 || sized;
  } else if (sized) {
    ok = in.block(res.body, length);
  } else {
    ok = in.rest(res.body);
    close = true;
  }
  if (!http11 && !keep_alive) close = true;
  if (in.was_too_large())
    return Error{ErrorCode::ResponseTooLarge, what, 0,
                 "the answer from " + host + " is larger than " + std::to_string(max_bytes >> 10) + " KiB"};
  if (!ok) return bad(in.why());
  reusable = !close;
  return res;
}

void GuardedStream::show_phase() {
  if (!sock_ || (shown_once_ && shown_ == guard_.phase())) return;
  shown_ = guard_.phase();
  shown_once_ = true;
  sock_->set_phase(guard_.phase_text());
}

ssize_t GuardedStream::read(char* ptr, size_t size) {
  guard_.reading();
  show_phase();
  ssize_t n = inner_.read(ptr, size);
  if (n > 0 && !guard_.on_read(ptr, static_cast<size_t>(n), size)) return -1;
  return n;
}

ssize_t GuardedStream::write(const char* ptr, size_t size) {
  guard_.writing();
  show_phase();
  return inner_.write(ptr, size);
}

}  // namespace tracklight::platform
