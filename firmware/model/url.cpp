#include "firmware/model/url.hpp"
#include "firmware/model/text.hpp"

#include <algorithm>
#include <cctype>

#include "platform/net_address.hpp"

namespace tracklight::firmware {
namespace {

bool all_digits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// The resolver reads "01.2.3.4", "1.2.3" or "0x7f.1" as an address (inet_aton) although they are
// not address literals; no real name ends in a numeric label (RFC 3696 section 2), so they are
// refused instead of being sent to DNS and compared with the certificate as names.
bool looks_numeric(const std::string& label) {
  if (label.size() > 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X')) {
    for (size_t i = 2; i < label.size(); ++i)
      if (!std::isxdigit(static_cast<unsigned char>(label[i]))) return false;
    return true;
  }
  return all_digits(label);
}

std::string last_label(const std::string& host) {
  const size_t dot = host.rfind('.');
  return dot == std::string::npos ? host : host.substr(dot + 1);
}

}  // namespace

bool is_ipv4_literal(const std::string& host) {
  std::string bytes;
  return platform::parse_ip_literal(host, &bytes) && bytes.size() == 4;
}

bool is_ipv6_literal(const std::string& host) {
  std::string bytes;
  return platform::parse_ip_literal(host, &bytes) && bytes.size() == 16;
}

bool valid_host_name(const std::string& host) {
  if (host.empty() || host.size() > 253 || is_ipv4_literal(host) || looks_numeric(last_label(host))) return false;
  size_t start = 0;
  for (;;) {
    size_t dot = host.find('.', start);
    size_t len = (dot == std::string::npos ? host.size() : dot) - start;
    if (len == 0 || len > 63) return false;
    for (size_t i = start; i < start + len; ++i) {
      unsigned char c = static_cast<unsigned char>(host[i]);
      bool ok = std::isalnum(c) || c == '-' || c == '_';
      if (!ok || ((i == start || i == start + len - 1) && c == '-')) return false;
    }
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

std::string parse_url(const std::string& text, Url& out) {
  out = Url{};
  for (unsigned char c : text)
    if (c <= 0x20 || c >= 0x7f) return "must not contain spaces or control or non-ASCII characters";
  size_t sep = text.find("://");
  if (sep == std::string::npos) return "must start with a scheme, e.g. https://";
  out.scheme = lower(text.substr(0, sep));
  if (out.scheme != "https" && out.scheme != "http") return "scheme must be https:// or http://";
  std::string rest = text.substr(sep + 3);
  if (rest.find_first_of("?#") != std::string::npos) return "must not contain a query (?) or fragment (#)";
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  out.path = slash == std::string::npos ? "" : rest.substr(slash);
  if (authority.find('@') != std::string::npos)
    return "must not contain a user name or password; use the credential fields";
  std::string port_text;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) return "has an unclosed '[' around an IPv6 address";
    out.host = lower(authority.substr(1, close - 1));
    if (!is_ipv6_literal(out.host)) return "has an invalid IPv6 address";
    out.host_is_ip = true;
    std::string after = authority.substr(close + 1);
    if (!after.empty() && after[0] != ':') return "has text after the IPv6 address";
    if (!after.empty()) port_text = after.substr(1);
    if (!after.empty() && port_text.empty()) return "has an empty port after ':'";
  } else {
    size_t colon = authority.rfind(':');
    out.host = lower(authority.substr(0, colon));
    if (colon != std::string::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return "has an empty port after ':'";
    }
    if (out.host.empty()) return "has no host name";
    out.host_is_ip = is_ipv4_literal(out.host);
    if (!out.host_is_ip && looks_numeric(last_label(out.host)))
      return "host '" + out.host + "' is neither a valid IPv4 address (four numbers 0-255, no leading zeros) nor a host name";
    if (!out.host_is_ip && !valid_host_name(out.host)) return "host '" + out.host + "' is not a valid host name";
  }
  out.port = out.scheme == "https" ? 443 : 80;
  if (!port_text.empty()) {
    if (!all_digits(port_text) || port_text.size() > 5 || std::stoi(port_text) < 1 || std::stoi(port_text) > 65535)
      return "port must be a number from 1 to 65535";
    out.port = std::stoi(port_text);
  }
  return "";
}

bool same_origin(const std::string& a, const std::string& b) {
  Url ua, ub;
  if (!parse_url(a, ua).empty() || !parse_url(b, ub).empty()) return false;
  return ua.scheme == ub.scheme && ua.host == ub.host && ua.port == ub.port;
}

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> form_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] != '%') {
      out += s[i];
    } else {
      const int hi = i + 2 < s.size() ? hex_digit(s[i + 1]) : -1, lo = hi < 0 ? -1 : hex_digit(s[i + 2]);
      if (lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> query_value(const std::string& url, const std::string& name) {
  const size_t q = url.find('?');
  if (q == std::string::npos) return std::nullopt;
  const std::string query = url.substr(q + 1, url.find('#', q) - q - 1);
  for (size_t at = 0; at <= query.size();) {
    const size_t end = std::min(query.find('&', at), query.size());
    const std::string pair = query.substr(at, end - at);
    const size_t eq = pair.find('=');
    if (form_decode(pair.substr(0, eq)) == name) return form_decode(eq == std::string::npos ? "" : pair.substr(eq + 1));
    at = end + 1;
  }
  return std::nullopt;
}

std::string path_segment(const std::string& text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else out += std::string("%") + kHex[c >> 4] + kHex[c & 15];
  }
  return out;
}

}  // namespace tracklight::firmware
