#include "firmware/model/text.hpp"

namespace tracklight::firmware {

std::string lower(std::string s) {
  // Not std::tolower: its answer depends on the process locale.
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

bool iequals(const std::string& a, const std::string& b) { return a.size() == b.size() && lower(a) == lower(b); }

bool has_control(const std::string& s, bool allow_newlines) {
  for (unsigned char c : s) {
    if (allow_newlines && (c == '\n' || c == '\r' || c == '\t')) continue;
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

std::string to_hex(const std::string& bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

}  // namespace tracklight::firmware
