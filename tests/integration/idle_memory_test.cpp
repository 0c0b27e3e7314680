// An idle agent gives back the code pages start-up ran (platform/memory.hpp): its own binary's
// code must not stay mapped once it listens. The budget itself (SPEC section 8) is measured by
// tools/bench on the release binary; this checks the agent does it at all.
#include <gtest/gtest.h>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include "tests/integration/agent_process.hpp"

namespace {
using namespace tracklight::test;

struct CodeMapping {
  long size_kb = 0, rss_kb = 0;
};

// The executable mapping of the agent's binary in its /proc/PID/smaps.
CodeMapping code_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps");
  std::string line;
  CodeMapping m;
  bool inside = false;
  while (std::getline(in, line)) {
    unsigned long lo = 0, hi = 0;
    char perms[8] = {0};
    if (std::sscanf(line.c_str(), "%lx-%lx %7s", &lo, &hi, perms) == 3 && line.find(' ') > line.find('-')) {
      inside = std::string(perms) == "r-xp" && line.size() > std::strlen(TRACKLIGHT_BINARY) &&
               line.compare(line.size() - std::strlen(TRACKLIGHT_BINARY), std::string::npos, TRACKLIGHT_BINARY) == 0;
      continue;
    }
    if (!inside) continue;
    long v = 0;
    if (std::sscanf(line.c_str(), "Size: %ld kB", &v) == 1) m.size_kb += v;
    if (std::sscanf(line.c_str(), "Rss: %ld kB", &v) == 1) m.rss_kb += v;
  }
  return m;
}

}  // namespace

TEST(IdleMemory, AgentGivesBackStartUpCodeOnceListening) {
  TempDir tmp;
  AgentProcess agent(tmp.path() + "/state");
  ASSERT_TRUE(agent.start()) << agent.log();
  // The pages go back just after the "listening" line: wait for it, at most 5 s.
  CodeMapping m = code_of(agent.pid());
  ASSERT_GT(m.size_kb, 0) << "no code mapping of " << TRACKLIGHT_BINARY;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (m.rss_kb * 4 > m.size_kb && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    m = code_of(agent.pid());
  }
  EXPECT_LE(m.rss_kb * 4, m.size_kb) << m.rss_kb << " of " << m.size_kb << " kB of code still mapped";
  RawReply ok = raw_request(agent.port(), "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(ok.status, 200) << ok.text;  // and it still serves
}
