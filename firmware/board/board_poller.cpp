#include "firmware/board/board_poller.hpp"

#include <algorithm>

#include "firmware/board/board_fetch.hpp"

namespace tracklight::firmware {
namespace {

bool polled(const Connection& c) { return c.active && c.board.enabled; }

const char* kRebootReason = "last known state from before the agent started; waiting for fresh data";

}  // namespace

BoardPoller::BoardPoller(platform::Clock& clock, platform::HttpsConnector& https, platform::Fs& fs,
                         platform::Logger& log, std::string cache_path, int64_t timeout_ms, UpstreamStats* upstream)
    : Periodic(clock, log, "board"),
      https_(https),
      fs_(fs),
      log_(log),
      cache_path_(std::move(cache_path)),
      timeout_ms_(timeout_ms),
      upstream_(upstream) {}

void BoardPoller::load_cache() {
  if (!fs_.exists(cache_path_)) return;
  auto text = fs_.read_state_file(cache_path_, kMaxCacheBytes);
  std::vector<BoardSource> list;
  std::vector<std::string> dropped;
  std::string why;
  if (!text) why = text.error().message();
  else if (!decode_board_cache(*text, list, why, &dropped)) list.clear();
  if (!why.empty()) {
    log_.warn("board", "ignoring the board cache " + cache_path_ + ": " + why + "; the board fills again from the trackers");
    return;
  }
  for (const auto& d : dropped)
    log_.warn("board", "board cache " + cache_path_ + ": leaving out damaged " + d + "; that board fills again from its tracker");
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& s : list) cached_[s.id] = std::move(s);
}

void BoardPoller::sync(const std::vector<Connection>& connections) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = clock_.monotonic_ms();
  std::vector<Entry> next;
  for (const auto& c : connections) {
    if (!polled(c)) continue;
    const std::string fp = settings_fingerprint(c, /*with_board=*/true);
    auto old = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.conn.id == c.id; });
    if (old != entries_.end() && old->fingerprint == fp) {
      next.push_back(std::move(*old));
      next.back().conn = c;  // the same settings, but a rotated refresh token is the newest
      continue;
    }
    Entry e;
    e.conn = c;
    e.fingerprint = fp;
    e.src.id = c.id;
    e.src.name = c.name.empty() ? c.id : c.name;
    e.src.provider = c.provider;
    e.src.server_url = c.server_url;
    e.src.reason = "waiting for the first fetch";
    auto cached = cached_.find(c.id);
    if (cached != cached_.end() && cached->second.provider == c.provider && cached->second.server_url == c.server_url) {
      e.src.data = std::move(cached->second.data);
      e.src.fetched_at_s = cached->second.fetched_at_s;
      e.src.reason = kRebootReason;
    }
    e.due_ms = now + jittered(1000);
    next.push_back(std::move(e));
  }
  cached_.clear();
  entries_ = std::move(next);
  notify();
}

void BoardPoller::apply(Entry& e, BoardFetch& f, int64_t now_ms) {
  BoardSource& s = e.src;
  const bool was_stale = s.stale;
  const int64_t interval = e.conn.board.interval_s * 1000LL;
  int64_t wait = interval;
  if (f.ok) {
    data_changed_ = data_changed_ || s.data != f.data;
    fetched_ = true;
    s.data = std::move(f.data);
    s.fetched_at_s = clock_.wall_time_s();
    s.stale = false;
    s.reason.clear();
    e.failures = 0;
    if (f.near_limit) wait = 2 * interval;
  } else {
    s.stale = true;
    s.reason = f.error;
    e.failures++;
    wait = std::min(kFirstRetryMs << std::min(e.failures - 1, 20), interval);
  }
  wait = std::max(jittered(wait), f.wait_s * 1000);
  e.due_ms = f.needs_settings ? INT64_MAX : now_ms + wait;
  if (f.wait_s > 0 || f.near_limit)
    log_.info("board", "connection " + e.conn.id + ": the server asks to slow down; next fetch in " +
                           std::to_string(wait / 1000) + " s");
  if (s.stale != was_stale || (s.stale && e.failures == 1))
    log_.warn("board", "connection " + e.conn.id + (s.stale ? ": board stale: " + s.reason : ": board up to date"));
}

int64_t BoardPoller::tick() {
  for (;;) {
    Connection conn;
    std::string fp, flavour;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const int64_t now = clock_.monotonic_ms();
      auto due = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.due_ms <= now; });
      if (due == entries_.end() || stopping_) {
        int64_t next = INT64_MAX;
        for (const auto& e : entries_) next = std::min(next, e.due_ms);
        return next;
      }
      conn = due->conn;
      fp = due->fingerprint;
      flavour = due->jira_flavour;
      due->due_ms = INT64_MAX;  // not picked again while it runs
    }
    CountingConnector counted(https_, upstream_ ? upstream_->counts(conn.id) : nullptr, UpstreamSource::Board);
    TrackerEnv env{clock_, counted, timeout_ms_, &stopping_, signin, &https_};
    BoardFetch f = fetch_board(conn, env, flavour);  // seconds, outside the lock
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_ += f.requests;
      auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.conn.id == conn.id; });
      if (it == entries_.end() || it->fingerprint != fp || stopping_) continue;
      it->jira_flavour = flavour;
      apply(*it, f, clock_.monotonic_ms());
    }
    save_cache();
  }
}

void BoardPoller::save_cache() {
  std::string text;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // fetched_at moves on every fetch; only a change of the data itself is worth a write now.
    const int64_t now_s = clock_.wall_time_s();
    if (!data_changed_ && !(fetched_ && now_s - saved_at_s_ >= kCacheRefreshS)) return;
    data_changed_ = fetched_ = false;
    saved_at_s_ = now_s;
    std::vector<BoardSource> list;
    for (const auto& e : entries_) list.push_back(e.src);
    text = encode_board_cache(list);
  }
  Status st = fs_.write_file_atomic(cache_path_, text, {});
  if (!st) log_.warn("board", "could not write the board cache " + cache_path_ + ": " + st.error().message());
}

std::vector<BoardSource> BoardPoller::sources() const {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now_s = clock_.wall_time_s();
  std::vector<BoardSource> out;
  for (const auto& e : entries_) {
    out.push_back(e.src);
    BoardSource& s = out.back();
    const int64_t limit_s = 3 * e.conn.board.interval_s + 60;
    if (!s.stale && s.fetched_at_s && now_s - s.fetched_at_s > limit_s) {
      s.stale = true;
      s.reason = "no fresh data for " + std::to_string((now_s - s.fetched_at_s) / 60) + " min";
    }
  }
  return out;
}

int BoardPoller::requests_sent() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

}  // namespace tracklight::firmware
