// Splits one fuzz input into the pieces a fake server answers with. tests/fuzz/make_seeds.py
// writes seeds in the same encoding.
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>

namespace tracklight::test {

struct FuzzReader {
  const uint8_t* p;
  size_t n;
  uint8_t byte() { return n ? (--n, *p++) : 0; }
  // Two bytes, the first one high. (In `byte() << 8 | byte()` the order of the two reads is
  // unspecified, so a seed could mean different things to different compilers.)
  unsigned u16() {
    const unsigned hi = byte();
    return hi << 8 | byte();
  }
  // A body length from two bytes: up to 4095 (high byte * 16 + low nibble).
  size_t length() {
    const size_t hi = byte();
    return hi << 4 | (byte() % 16u);
  }
  std::string take(size_t len) {
    len = std::min(len, n);
    std::string s(reinterpret_cast<const char*>(p), len);
    p += len;
    n -= len;
    return s;
  }
};

}  // namespace tracklight::test
