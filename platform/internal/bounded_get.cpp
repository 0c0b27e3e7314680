#include "platform/internal/bounded_get.hpp"

namespace tracklight::platform {

Result<HttpsResponse> bounded_get(httplib::ClientImpl& client, const std::string& path, const HeaderList& headers,
                                  size_t max_bytes, const std::string& host, const std::string& body_out,
                                  const std::string& content_type) {
  httplib::Headers h;
  for (const auto& kv : headers) h.emplace(kv.first, kv.second);
  h.emplace("User-Agent", "tracklight/" TRACKLIGHT_VERSION);
  std::string body;
  bool too_large = false;
  auto receive = [&](const char* data, size_t len) {
    if (body.size() + len > max_bytes) {
      too_large = true;
      return false;
    }
    body.append(data, len);
    return true;
  };
  const char* method = content_type.empty() ? "GET " : "POST ";
  auto res = content_type.empty() ? client.Get(path, h, receive) : client.Post(path, h, body_out, content_type, receive);
  if (too_large)
    return Error{ErrorCode::ResponseTooLarge, method + path, 0,
                 "the answer from " + host + " is larger than " + std::to_string(max_bytes >> 10) + " KiB"};
  if (!res)
    return Error{ErrorCode::BadResponse, method + path, static_cast<long>(res.error()),
                 "no valid HTTP answer from " + host + " (" + httplib::to_string(res.error()) + ")"};
  HttpsResponse out;
  out.status = res->status;
  for (const auto& kv : res->headers) out.headers.emplace_back(kv.first, kv.second);
  out.body = std::move(body);
  return out;
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
