#include "firmware/access/admin_password.hpp"

#include <vector>

#include "platform/crypto.hpp"

namespace tracklight::firmware {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t at = s.find(sep, start);
    parts.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return parts;
    start = at + 1;
  }
}

}  // namespace

Result<std::string> hash_password(const std::string& password, platform::Entropy& entropy, unsigned iterations) {
  auto salt = entropy.bytes(16);
  if (!salt) return salt.error();
  auto hash = platform::pbkdf2_sha256(password, *salt, iterations, 32);
  if (!hash) return hash.error();
  return "pbkdf2-sha256$" + std::to_string(iterations) + "$" + platform::base64_encode(*salt) + "$" +
         platform::base64_encode(*hash);
}

bool verify_password(const std::string& password, const std::string& stored) {
  auto parts = split(stored, '$');
  if (parts.size() != 4 || parts[0] != "pbkdf2-sha256" || parts[1].empty() || parts[1].size() > 8) return false;
  for (char c : parts[1])
    if (c < '0' || c > '9') return false;
  unsigned iterations = static_cast<unsigned>(std::stoul(parts[1]));
  auto salt = platform::base64_decode(parts[2]);
  auto want = platform::base64_decode(parts[3]);
  if (iterations == 0 || !salt || !want || want->empty()) return false;
  auto got = platform::pbkdf2_sha256(password, *salt, iterations, want->size());
  return got && platform::constant_time_equal(*got, *want);
}

std::string password_problem(const std::string& password) {
  if (password.size() < kMinPasswordLen) return "use at least 8 characters";
  if (password.size() > kMaxPasswordLen) return "use at most 256 characters";
  for (unsigned char c : password)
    if (c < 0x20 || c == 0x7f) return "must not contain control characters";
  return "";
}

}  // namespace tracklight::firmware
