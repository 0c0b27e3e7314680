// return_idle_memory() unmaps code and read-only data an idle agent does not run, and must never
// lose a byte the process wrote: data, relocated pointers (RELRO), the heap.
#include "platform/memory.hpp"

#include <gtest/gtest.h>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <unistd.h>

namespace {

int g_written = 7;                           // .data: written below, must keep 42
int* const g_relocated = &g_written;         // RELRO in a position-independent test binary
const char g_literal[] = "tracklight idle";  // .rodata: dropped, must read back the same

struct Mapping {
  uintptr_t lo = 0, hi = 0;
  long rss_kb = -1, size_kb = -1;
};

// The block of /proc/self/smaps whose range holds `addr`.
Mapping mapping_of(const void* addr) {
  const auto a = reinterpret_cast<uintptr_t>(addr);
  std::ifstream in("/proc/self/smaps");
  std::string line;
  Mapping m;
  bool inside = false;
  while (std::getline(in, line)) {
    unsigned long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2 && line.find(' ') > line.find('-')) {
      if (inside) break;
      inside = a >= lo && a < hi;
      if (inside) m = Mapping{lo, hi};
      continue;
    }
    if (!inside) continue;
    std::sscanf(line.c_str(), "Rss: %ld kB", &m.rss_kb);
    std::sscanf(line.c_str(), "Size: %ld kB", &m.size_kb);
  }
  return m;
}

void touch_every_page(const Mapping& m) {
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  unsigned sum = 0;
  for (uintptr_t p = m.lo; p < m.hi; p += page) sum += *reinterpret_cast<const volatile unsigned char*>(p);
  (void)sum;
}

unsigned add_one(unsigned x) { return x + 1; }

}  // namespace

TEST(IdleMemory, CodeThisProgramRanIsUnmappedAndRunsAgain) {
  const Mapping before = mapping_of(reinterpret_cast<const void*>(&add_one));
  ASSERT_GT(before.size_kb, 64) << "the test binary's code mapping was not found";
  touch_every_page(before);
  ASSERT_GE(mapping_of(reinterpret_cast<const void*>(&add_one)).rss_kb, before.size_kb * 9 / 10);

  tracklight::platform::return_idle_memory();

  const Mapping after = mapping_of(reinterpret_cast<const void*>(&add_one));
  EXPECT_LT(after.rss_kb, before.size_kb / 2) << "the code pages stayed mapped";
  volatile unsigned x = 41;
  EXPECT_EQ(add_one(x), 42u);  // its page comes back from the file
}

TEST(IdleMemory, LibraryCodeIsUnmappedToo) {
  const void* libc_code = reinterpret_cast<const void*>(&::getpid);
  const Mapping before = mapping_of(libc_code);
  ASSERT_GT(before.size_kb, 64) << "libc's code mapping was not found";
  touch_every_page(before);

  tracklight::platform::return_idle_memory();

  EXPECT_LT(mapping_of(libc_code).rss_kb, before.size_kb / 2);
  EXPECT_EQ(::getpid(), ::getpid());
}

TEST(IdleMemory, NothingTheProcessWroteIsLost) {
  g_written = 42;
  auto heap = std::make_unique<std::string>(100000, 'h');
  tracklight::platform::return_idle_memory();
  EXPECT_EQ(g_written, 42);
  EXPECT_EQ(g_relocated, &g_written);
  EXPECT_EQ(*g_relocated, 42);
  EXPECT_EQ(std::strcmp(g_literal, "tracklight idle"), 0);
  EXPECT_EQ(*heap, std::string(100000, 'h'));
  tracklight::platform::return_idle_memory();  // twice in a row is as harmless
  EXPECT_EQ(g_written, 42);
}
