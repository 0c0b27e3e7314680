// tools/bench helper: RSS of the real board code across N board refreshes. The poller runs with
// the product's mbedTLS client and file store against the fake trackers (ports on the command
// line); only its clock is made to jump by the board interval between refreshes, so a thousand
// refreshes take a minute instead of a day.
//   board_bench JIRA_PORT ADO_PORT CA_PEM STATE_DIR REFRESHES
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "firmware/board/board_poller.hpp"
#include "platform/crypto.hpp"
#include "platform/https_client.hpp"
#include "platform/fs.hpp"
#include "platform/log.hpp"

using namespace tracklight;

namespace {

class SteppedClock : public platform::Clock {
 public:
  int64_t offset_ms = 0;
  int64_t monotonic_ms() override { return real_.monotonic_ms() + offset_ms; }
  int64_t wall_time_s() override { return real_.wall_time_s() + offset_ms / 1000; }

 private:
  platform::PosixClock real_;
};

long rss_kb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: board_bench JIRA_PORT ADO_PORT CA_PEM STATE_DIR REFRESHES\n");
    return 2;
  }
  std::stringstream ca;
  ca << std::ifstream(argv[3]).rdbuf();
  firmware::Connection jira, ado;
  jira.id = "jira";
  jira.provider = "jira";
  jira.server_url = std::string("https://localhost:") + argv[1];
  jira.auth = "api-key";
  jira.username = "mia@example.com";
  jira.api_key = "bench-token";
  ado.id = "ado";
  ado.provider = "azure-devops";
  ado.server_url = std::string("https://localhost:") + argv[2] + "/tfs";
  ado.auth = "pat";
  ado.token = "bench-pat";
  ado.project = "Fiber";
  for (auto* c : {&jira, &ado}) {
    c->ca_cert = ca.str();
    c->board.enabled = true;
    c->name = c->id;
  }
  SteppedClock clock;
  platform::MbedtlsConnector https(clock);
  platform::PosixFs fs;
  platform::StderrLogger log(platform::LogLevel::Error);
  firmware::BoardPoller poller(clock, https, fs, log, std::string(argv[4]) + "/board-cache.json", 20000);
  poller.sync({jira, ado});
  const int n = std::atoi(argv[5]);
  long first = 0;
  for (int i = 1; i <= n; ++i) {
    clock.offset_ms += 70000;  // past the 60 s interval and its jitter: both boards are due
    poller.tick();
    if (i == 10) first = rss_kb();
    if (i % (n / 4 > 0 ? n / 4 : 1) == 0)
      std::printf("after %d refreshes: RSS %ld kB, %d upstream requests\n", i, rss_kb(), poller.requests_sent());
  }
  for (const auto& s : poller.sources())
    if (s.stale) {
      std::printf("source %s is stale: %s\n", s.id.c_str(), s.reason.c_str());
      return 1;
    }
  std::printf("RSS after 10 refreshes %ld kB, after %d: %ld kB\n", first, n, rss_kb());
  return 0;
}
