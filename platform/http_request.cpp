#include "platform/http_server.hpp"

#include <strings.h>

namespace tracklight::platform {

const std::string* find_header(const HeaderList& headers, const std::string& name) {
  for (const auto& h : headers)
    if (strcasecmp(h.first.c_str(), name.c_str()) == 0) return &h.second;
  return nullptr;
}

const std::string* HttpRequest::header(const std::string& name) const { return find_header(headers, name); }

size_t HttpRequest::header_count(const std::string& name) const {
  size_t n = 0;
  for (const auto& h : headers) n += strcasecmp(h.first.c_str(), name.c_str()) == 0;
  return n;
}

const std::string* HttpRequest::query_param(const std::string& name) const {
  for (const auto& q : query)
    if (q.first == name) return &q.second;
  return nullptr;
}

size_t HttpRequest::header_block_bytes() const {
  size_t n = 0;
  for (const auto& h : headers) n += h.first.size() + h.second.size() + 4;  // ": " + CRLF
  return n;
}

}  // namespace tracklight::platform
