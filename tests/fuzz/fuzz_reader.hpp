// Splits one fuzz input into the pieces a fake server answers with.
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>

namespace tracklight::test {

struct FuzzReader {
  const uint8_t* p;
  size_t n;
  uint8_t byte() { return n ? (--n, *p++) : 0; }
  std::string take(size_t len) {
    len = std::min(len, n);
    std::string s(reinterpret_cast<const char*>(p), len);
    p += len;
    n -= len;
    return s;
  }
};

}  // namespace tracklight::test
