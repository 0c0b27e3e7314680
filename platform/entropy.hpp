// Random bytes for keys, salts, nonces, session ids and the setup code. Fails closed: there is
// no fallback to a weak generator. Thread-safe.
#pragma once
#include <cstddef>
#include <string>
#include "platform/result.hpp"

namespace tracklight::platform {

class Entropy {
 public:
  virtual ~Entropy() = default;
  virtual Status fill(unsigned char* out, size_t len) = 0;
  Result<std::string> bytes(size_t len);
};

class LinuxEntropy : public Entropy {
 public:
  Status fill(unsigned char* out, size_t len) override;
};

}  // namespace tracklight::platform
