// IP address literals, decided the way the socket layer reads them (inet_pton), so the URL
// validator, the page's Host check and the TLS code agree on what is an address and what is a
// name: IPv4 only as four decimal parts without leading zeros ("01.2.3.4", "1.2.3" are not
// addresses), IPv6 without brackets and without a zone ("fe80::1%eth0" is not one).
// Thread-safe.
#pragma once
#include <string>

namespace tracklight::platform {

// True when `text` is an IPv4 or IPv6 literal; `bytes` (optional) gets its 4 or 16 bytes.
bool parse_ip_literal(const std::string& text, std::string* bytes = nullptr);
// The text form of 4 or 16 address bytes (an X.509 iPAddress name); "" for any other length.
std::string format_ip(const std::string& bytes);

}  // namespace tracklight::platform
