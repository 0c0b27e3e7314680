// The admin password: stored as "pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>" (mbedTLS
// PBKDF2-HMAC-SHA256), compared in constant time. The iteration count travels with the hash, so
// it can be raised later without invalidating stored passwords.
#pragma once
#include <string>
#include "platform/entropy.hpp"
#include "platform/result.hpp"

namespace tracklight::firmware {

constexpr unsigned kPasswordIterations = 210000;  // OWASP 2023 guidance for PBKDF2-HMAC-SHA256
constexpr size_t kMinPasswordLen = 8;
constexpr size_t kMaxPasswordLen = 256;

Result<std::string> hash_password(const std::string& password, platform::Entropy& entropy,
                                  unsigned iterations = kPasswordIterations);
bool verify_password(const std::string& password, const std::string& stored);
// "" when acceptable, else what to change.
std::string password_problem(const std::string& password);

}  // namespace tracklight::firmware
