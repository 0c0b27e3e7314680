// URL and host parsing for the server and proxy fields.
#include <cstdint>
#include <string>

#include "firmware/model/url.hpp"

using namespace tracklight::firmware;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  Url u;
  if (parse_url(text, u).empty()) {
    if (u.port < 1 || u.port > 65535 || u.host.empty()) __builtin_trap();
    if (u.scheme != "https" && u.scheme != "http") __builtin_trap();
    if (!u.path.empty() && u.path[0] != '/') __builtin_trap();
  }
  // A landing address's query: decoded or refused, never read past its end.
  if (const auto v = query_value(text, "code"))
    if (v->size() > text.size()) __builtin_trap();
  (void)valid_host_name(text);
  (void)is_ipv6_literal(text);
  return 0;
}
