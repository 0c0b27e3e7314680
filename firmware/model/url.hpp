// URL parsing for the server and proxy fields: scheme, host, port and path only. User info,
// queries and fragments are refused: credentials belong in their own (sealed) fields.
#pragma once
#include <optional>
#include <string>

namespace tracklight::firmware {

struct Url {
  std::string scheme;  // lower case
  std::string host;    // lower case; IPv6 without brackets
  int port = 0;        // explicit or the scheme's default
  std::string path;    // "" or starting with '/'
  bool host_is_ip = false;
};

// Returns "" and fills `out`, or returns why the text is not a usable URL.
std::string parse_url(const std::string& text, Url& out);
bool valid_host_name(const std::string& host);  // DNS name (not an IP literal)
// Both parse and name the same scheme, host and port: where a stored secret may still be sent.
bool same_origin(const std::string& a, const std::string& b);
// IP literals as the socket layer reads them (platform/net_address.hpp): the validator, the
// page's Host check and the TLS code agree on what is an address.
bool is_ipv4_literal(const std::string& host);
bool is_ipv6_literal(const std::string& host);   // without brackets or zone

std::string path_segment(const std::string& text);  // percent-encodes one URL path segment
// The decoded value of `name` in the query of `url` (after '?', before '#'); nullopt when absent
// or when its percent-encoding is broken.
std::optional<std::string> query_value(const std::string& url, const std::string& name);

}  // namespace tracklight::firmware
