#include "firmware/monitor.hpp"

#include <algorithm>

namespace tracklight::firmware {
namespace {

// Everything a check depends on, secrets included; kept in memory only, never logged.
std::string fingerprint(const Connection& c) {
  std::string f;
  auto add = [&](const std::string& v) { f += std::to_string(v.size()) + ":" + v; };
  for (size_t i = 0; i < kStringFieldCount; ++i) add(c.*kStringFields[i].member);
  for (size_t i = 0; i < kSecretFieldCount; ++i) add(c.*kSecretFields[i].member);
  for (const auto& h : c.headers) add(h.name), add(h.value);
  add(std::to_string(c.check_interval_s) + (c.active ? "A" : "-") + (c.use_for_tfvc ? "T" : "-") + c.saved_status);
  return f;
}

bool watched(const std::string& status) { return status == "authorized" || status == "interrupted"; }

}  // namespace

Monitor::Monitor(platform::Clock& clock, platform::HttpsConnector& https, platform::Logger& log, int64_t test_timeout_ms)
    : clock_(clock), https_(https), log_(log), timeout_ms_(test_timeout_ms) {}

int64_t Monitor::jittered(int64_t ms) {
  jitter_state_ ^= jitter_state_ << 13;
  jitter_state_ ^= jitter_state_ >> 7;
  jitter_state_ ^= jitter_state_ << 17;
  const int64_t spread = ms / 10;  // +-10 %: boards that booted together do not poll together
  return spread > 0 ? ms - spread + static_cast<int64_t>(jitter_state_ % static_cast<uint64_t>(2 * spread + 1)) : ms;
}

void Monitor::sync(const std::vector<Connection>& connections, bool at_startup) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = clock_.monotonic_ms();
  std::map<std::string, Entry> next;
  for (const auto& c : connections) {
    auto old = entries_.find(c.id);
    const std::string fp = fingerprint(c);
    if (old != entries_.end() && old->second.fingerprint == fp) {
      next[c.id] = std::move(old->second);
      continue;
    }
    Entry e;
    e.conn = c;
    e.fingerprint = fp;
    e.health.status = effective_status(c);
    if (watched(e.health.status)) e.due_ms = now + jittered(at_startup ? 5000 : c.check_interval_s * 1000LL);
    next[c.id] = std::move(e);
  }
  entries_ = std::move(next);
  wake_.notify_all();
}

void Monitor::apply(Entry& e, const Report& r, int64_t now_ms) {
  ConnectionHealth& h = e.health;
  const std::string before = h.status;
  h.last_check_s = clock_.wall_time_s();
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
    TestEnv env{clock_, https_, timeout_ms_, &stopping_};
    Report r = run_test(conn, env);  // seconds, outside the lock
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(conn.id);
    if (it != entries_.end() && it->second.fingerprint == fp && !stopping_) apply(it->second, r, clock_.monotonic_ms());
  }
}

bool Monitor::health(const std::string& id, ConnectionHealth& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return false;
  out = it->second.health;
  return true;
}

void Monitor::run() {
  while (!stopping_) {
    const int64_t next = tick();
    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_) break;
    const int64_t wait = std::min<int64_t>(next == INT64_MAX ? 3600000 : next - clock_.monotonic_ms(), 3600000);
    if (wait > 0) wake_.wait_for(lock, std::chrono::milliseconds(wait));
  }
}

void Monitor::stop() {
  stopping_ = true;
  std::lock_guard<std::mutex> lock(mu_);
  wake_.notify_all();
}

}  // namespace tracklight::firmware
