// The board poller (SPEC section 5): fetches every enabled board on its own interval (default
// 60 s, minimum 15 s, jittered), keeps the last good data when a fetch fails and says why it
// is stale, and writes the last good board to the state directory so that after a reboot the
// board shows the last known state, marked stale until fresh data arrives.
//
//   a fetch fails (network, 5xx)   retried after 15 s, 30 s, ... up to the interval
//   429 / Retry-After / Delay      nothing is sent before the server's wait is over, even on 200
//   budget nearly spent            the next interval is doubled (Azure DevOps bills each call)
//   401/403, sign-in page, bad JQL, no such project
//                                  not retried until the settings change (no lock-outs)
//
// The cache is rewritten when the data changed, or at most every 10 minutes otherwise, to spare
// SD cards. Thread-safe; tick() is what tests drive with a fake clock.
#pragma once
#include <map>
#include <string>
#include <vector>
#include "firmware/board/board_source.hpp"
#include "firmware/metrics/upstream_counts.hpp"
#include "firmware/model/connection.hpp"
#include "firmware/monitor/periodic.hpp"
#include "firmware/tracker/endpoint.hpp"
#include "platform/fs.hpp"
#include "platform/https_client.hpp"
#include "platform/log.hpp"

namespace tracklight::firmware {

struct BoardFetch;

class BoardPoller : public Periodic {
 public:
  static constexpr int64_t kFirstRetryMs = 15000;
  static constexpr int64_t kCacheRefreshS = 600;
  static constexpr size_t kMaxCacheBytes = 4u << 20;

  // `upstream`, when given, counts each fetch's requests per connection (GET /metrics).
  BoardPoller(platform::Clock& clock, platform::HttpsConnector& https, platform::Fs& fs, platform::Logger& log,
              std::string cache_path, int64_t timeout_ms, UpstreamStats* upstream = nullptr);
  // At start-up, before the first sync(): the last known board, all of it stale.
  void load_cache();
  // The connections, after every change of the configuration; boards of active connections
  // with board.enabled are polled. A changed board starts over and is fetched at once.
  void sync(const std::vector<Connection>& connections);
  int64_t tick() override;
  // The board now, in the order of the connections. A source not refreshed for three
  // intervals is reported stale even while no fetch failed (e.g. a long Retry-After).
  std::vector<BoardSource> sources() const;
  int requests_sent() const;  // upstream requests since start, for tests and the bench
  SigninContext* signin = nullptr;  // the agent's kept tokens; set before run()

 private:
  struct Entry {
    Connection conn;
    std::string fingerprint;
    BoardSource src;
    int64_t due_ms = INT64_MAX;
    std::string jira_flavour;
    int failures = 0;
  };
  void apply(Entry& e, BoardFetch& f, int64_t now_ms);
  void save_cache();

  platform::HttpsConnector& https_;
  platform::Fs& fs_;
  platform::Logger& log_;
  std::string cache_path_;
  int64_t timeout_ms_;
  UpstreamStats* upstream_;
  std::vector<Entry> entries_;
  std::map<std::string, BoardSource> cached_;  // read at start-up, used by sync()
  bool data_changed_ = false;                  // since the cache file was written
  bool fetched_ = false;                       // a good fetch since then (fresher fetched_at)
  int64_t saved_at_s_ = 0;
  int requests_ = 0;
};

}  // namespace tracklight::firmware
