#include "firmware/monitor/monitor.hpp"

#include <algorithm>

#include "firmware/model/connection_rules.hpp"

namespace tracklight::firmware {
namespace {

// An imported connection is checked like a Connected one, unless the file could not carry its
// sign-in secret (then there is nothing to check until Connect is given it).
bool watched(const Connection& c, const std::string& status) {
  if (status == "authorized" || status == "interrupted") return true;
  return status == "not-verified" && c.imported && !lacks_sign_in_secret(c);
}

}  // namespace

Monitor::Monitor(platform::Clock& clock, platform::HttpsConnector& https, platform::Logger& log, int64_t test_timeout_ms,
                 UpstreamStats* upstream)
    : Periodic(clock, log, "monitor"), https_(https), log_(log), timeout_ms_(test_timeout_ms), upstream_(upstream) {}

void Monitor::sync(const std::vector<Connection>& connections, bool at_startup) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = clock_.monotonic_ms();
  std::map<std::string, Entry> next;
  for (const auto& c : connections) {
    auto old = entries_.find(c.id);
    const std::string fp = settings_fingerprint(c, /*with_board=*/false);
    if (old != entries_.end() && old->second.fingerprint == fp) {
      next[c.id] = std::move(old->second);
      next[c.id].conn = c;  // the same settings, but a rotated refresh token is the newest
      continue;
    }
    Entry e;
    e.conn = c;
    e.fingerprint = fp;
    e.health.status = effective_status(c);
    // Connect has just checked a changed connection; an import has not.
    const bool soon = at_startup || e.health.status == "not-verified";
    if (watched(c, e.health.status)) e.due_ms = now + jittered(soon ? 5000 : c.check_interval_s * 1000LL);
    next[c.id] = std::move(e);
  }
  entries_ = std::move(next);
  notify();
}

void Monitor::apply(Entry& e, const Report& r, int64_t now_ms) {
  ConnectionHealth& h = e.health;
  const std::string before = h.status;
  h.last_check_s = clock_.wall_time_s();
  h.last_ok = r.ok;
  h.last_error.clear();
  h.warning.clear();
  for (const auto& c : r.checks) {
    if (c.result == "fail" && h.last_error.empty()) h.last_error = c.message;
    if (c.result == "warn" && h.warning.empty()) h.warning = c.message;
  }
  const int64_t interval = e.conn.check_interval_s * 1000LL;
  if (r.ok) {
    h.status = "authorized";
    h.failures = 0;
    e.due_ms = now_ms + jittered(interval);
  } else if (r.status == "interrupted") {
    h.status = "interrupted";
    h.failures++;
    const int64_t backoff = kFirstRetryMs << std::min(h.failures - 1, 20);
    e.due_ms = now_ms + jittered(std::min(backoff, interval));
  } else {
    h.status = "not-authorized";
    e.due_ms = INT64_MAX;
  }
  h.next_check_s = e.due_ms == INT64_MAX ? 0 : h.last_check_s + (e.due_ms - now_ms) / 1000;
  if (h.status != before)
    log_.warn("monitor", "connection " + e.conn.id + ": " + before + " -> " + h.status +
                             (h.last_error.empty() ? "" : " (" + h.last_error + ")"));
}

int64_t Monitor::tick() {
  for (;;) {
    Connection conn;
    std::string fp;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const int64_t now = clock_.monotonic_ms();
      auto due = std::find_if(entries_.begin(), entries_.end(), [&](const auto& kv) { return kv.second.due_ms <= now; });
      if (due == entries_.end() || stopping_) {
        int64_t next = INT64_MAX;
        for (const auto& kv : entries_) next = std::min(next, kv.second.due_ms);
        return next;
      }
      conn = due->second.conn;
      fp = due->second.fingerprint;
      due->second.due_ms = INT64_MAX;  // not picked again while it runs
    }
    CountingConnector counted(https_, upstream_ ? upstream_->counts(conn.id) : nullptr, UpstreamSource::Check);
    TrackerEnv env{clock_, counted, timeout_ms_, &stopping_, signin, &https_};
    Report r = run_test(conn, env);  // seconds, outside the lock
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(conn.id);
    if (it != entries_.end() && it->second.fingerprint == fp && !stopping_) apply(it->second, r, clock_.monotonic_ms());
  }
}

void Monitor::record_test(const Connection& c, const Report& r) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(c.id);
  if (it == entries_.end() || !watched(it->second.conn, it->second.health.status) ||
      it->second.fingerprint != settings_fingerprint(c, /*with_board=*/false))
    return;
  apply(it->second, r, clock_.monotonic_ms());
  notify();
}

bool Monitor::health(const std::string& id, ConnectionHealth& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return false;
  out = it->second.health;
  return true;
}

}  // namespace tracklight::firmware
