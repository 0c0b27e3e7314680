// The connection monitor (SPEC section 4): re-runs Test on every watched connection in the
// background and keeps its status.
//
//   authorized      all checks pass; next check after the interval (jittered +-10 %)
//   interrupted     network, TLS, 5xx, 429: retried after 10 s, 20 s, 40 s ... up to the
//                   interval, and back to authorized by itself
//   not-authorized  401/403, missing permission, expired token: not retried until the settings
//                   change (a retry storm would lock the account)
//   not-verified    saved with verify=false: not watched until a Connect verifies it; added or
//                   changed by an import: checked as usual, and its status follows the check
//   inactive        switched off
// A status change is logged once. tick() does the work and is what tests drive with a fake
// clock; run() is the thread around it. Thread-safe.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>
#include "firmware/checks/tester.hpp"
#include "firmware/metrics/upstream_counts.hpp"
#include "firmware/model/connection.hpp"
#include "firmware/monitor/periodic.hpp"
#include "platform/log.hpp"

namespace tracklight::firmware {

struct ConnectionHealth {
  std::string status;
  int64_t last_check_s = 0;  // wall clock; 0 = never
  bool last_ok = false;      // the last check passed (warnings allowed)
  int64_t next_check_s = 0;  // wall clock; 0 = none planned
  std::string last_error;    // the failing check's message ("" when fine)
  std::string warning;       // e.g. the token expires in 5 days
  int failures = 0;          // consecutive interrupted checks
};

class Monitor : public Periodic {
 public:
  static constexpr int64_t kFirstRetryMs = 10000;

  // `upstream`, when given, counts each check's requests per connection (GET /metrics).
  Monitor(platform::Clock& clock, platform::HttpsConnector& https, platform::Logger& log, int64_t test_timeout_ms,
          UpstreamStats* upstream = nullptr);
  // The connections to watch, after every change of the configuration. A connection whose
  // settings changed starts over with the status it was saved with.
  // At start-up the saved connections are checked soon; later a changed one after its interval
  // (Connect has just verified it).
  void sync(const std::vector<Connection>& connections, bool at_startup = false);
  // Runs every check that is due; returns the monotonic time the next one is due (INT64_MAX: none).
  int64_t tick() override;
  bool health(const std::string& id, ConnectionHealth& out) const;
  // Connect has just run the full Test on `c` and saved it: the Test counts as its last check,
  // and the next one is an interval later. Ignored when the settings changed again meanwhile.
  void record_test(const Connection& c, const Report& r);
  SigninContext* signin = nullptr;  // the agent's kept tokens; set before run()

 private:
  struct Entry {
    Connection conn;
    std::string fingerprint;
    ConnectionHealth health;
    int64_t due_ms = INT64_MAX;
  };
  void apply(Entry& e, const Report& r, int64_t now_ms);

  platform::HttpsConnector& https_;
  platform::Logger& log_;
  int64_t timeout_ms_;
  UpstreamStats* upstream_;
  std::map<std::string, Entry> entries_;
};

}  // namespace tracklight::firmware
