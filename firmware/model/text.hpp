// ASCII text helpers shared by the model, the store and the routes. Tracker and HTTP names are
// ASCII case-insensitive; nothing here is locale-dependent.
#pragma once
#include <string>

namespace tracklight::firmware {

std::string lower(std::string s);
bool iequals(const std::string& a, const std::string& b);
std::string to_hex(const std::string& bytes);  // lowercase, two digits per byte
// A C0 control character or DEL (line breaks, tab and CR too unless `allow_newlines`).
bool has_control(const std::string& s, bool allow_newlines = false);
// Not empty, at most `max` bytes, one line without control characters: shown to a person.
inline bool printable(const std::string& s, size_t max) { return !s.empty() && s.size() <= max && !has_control(s); }

}  // namespace tracklight::firmware
