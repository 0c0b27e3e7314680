#include "platform/internal/http_exchange.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace tracklight::platform {

namespace {

constexpr size_t kMaxLine = 64 * 1024;  // the guard's caps are lower; this holds without one (fuzzer)

bool iequal(const std::string& a, const char* b) {
  const size_t n = std::strlen(b);
  if (a.size() != n) return false;
  for (size_t i = 0; i < n; ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

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
      if (strm_.read(&c, 1) != 1) return fail(out.empty() ? "the connection closed" : "the connection closed inside a line");
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
  bool block(std::string& body, size_t n) {
    if (body.size() + n > max_) return too_large();
    char buf[16384];
    while (n > 0) {
      const ssize_t got = strm_.read(buf, std::min(n, sizeof buf));
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
      if (body.size() + static_cast<size_t>(got) > max_) return too_large();
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
  bool was_too_large() const { return too_large_; }

 private:
  httplib::Stream& strm_;
  size_t max_;
  const char* why_ = "";
  bool too_large_ = false;
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
    const size_t n = std::stoull(size, nullptr, 16);
    if (n == 0) break;
    if (!in.block(body, n) || !in.line(l)) return false;
    if (!l.empty()) return in.fail("a chunk does not end where its size says");
  }
  for (;;) {  // the trailer, up to its blank line
    if (!in.line(l)) return false;
    if (l.empty()) return true;
  }
}

std::string request_text(const OutgoingRequest& r) {
  std::string out = r.method + " " + r.target + " HTTP/1.1\r\nHost: " + r.host_header + "\r\n";
  bool accept = false;
  for (const auto& h : r.headers) {
    out += h.first + ": " + h.second + "\r\n";
    accept = accept || iequal(h.first, "Accept");
  }
  if (!accept) out += "Accept: */*\r\n";
  out += "User-Agent: tracklight/" TRACKLIGHT_VERSION "\r\n";
  if (!r.content_type.empty() || !r.body.empty())
    out += "Content-Type: " + r.content_type + "\r\nContent-Length: " + std::to_string(r.body.size()) + "\r\n";
  return out + "\r\n" + r.body;
}

}  // namespace

Result<HttpsResponse> http_exchange(httplib::Stream& strm, const OutgoingRequest& req, size_t max_bytes,
                                    const std::string& host, bool& reusable, bool* unanswered) {
  reusable = false;
  if (unanswered) *unanswered = true;
  const std::string what = req.method + " " + req.target.substr(0, req.target.find('?'));
  auto bad = [&](const std::string& why) {
    return Error{ErrorCode::BadResponse, what, 0, "no valid HTTP answer from " + host + " (" + why + ")"};
  };
  const std::string text = request_text(req);
  for (size_t sent = 0; sent < text.size();) {
    const ssize_t n = strm.write(text.data() + sent, text.size() - sent);
    if (n <= 0) return bad("the request could not be sent");
    sent += static_cast<size_t>(n);
  }
  Reader in(strm, max_bytes);
  HttpsResponse res;
  bool http11 = false;
  std::string l;
  if (!in.line(l)) return bad(in.why());
  if (unanswered) *unanswered = false;
  for (bool first = true;; first = false) {  // interim answers (100 Continue, 103 Early Hints) come first
    res.headers.clear();
    if (!first && !in.line(l)) return bad(in.why());
    res.status = status_of(l, http11);
    if (!res.status) return bad("not an HTTP/1.x status line");
    if (!headers(in, res.headers)) return bad(in.why());
    if (res.status >= 200 || res.status == 101) break;
  }
  bool close = !http11, sized = false, chunks = false;
  size_t length = 0;
  for (const auto& h : res.headers) {
    if (iequal(h.first, "Connection")) close = close ? !iequal(h.second, "keep-alive") : iequal(h.second, "close");
    if (iequal(h.first, "Transfer-Encoding")) {
      const std::string last = trim(h.second.substr(h.second.rfind(',') == std::string::npos ? 0 : h.second.rfind(',') + 1));
      chunks = iequal(last, "chunked");  // another coding: the body runs to the end of the connection
      sized = false;
    }
    if (iequal(h.first, "Content-Length") && !chunks) {
      if (h.second.empty() || h.second.size() > 15 || h.second.find_first_not_of("0123456789") != std::string::npos)
        return bad("its Content-Length is not a number");
      const size_t n = std::stoull(h.second);
      if (sized && n != length) return bad("it gives two different Content-Lengths");
      sized = true;
      length = n;
    }
  }
  const bool none = req.method == "HEAD" || res.status == 204 || res.status == 304 ||
                    (req.method == "CONNECT" && res.status / 100 == 2);
  bool ok = true;
  if (none) ok = true;
  else if (chunks) ok = chunked(in, res.body);
  else if (sized) ok = in.block(res.body, length);
  else ok = in.rest(res.body), close = true;
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
