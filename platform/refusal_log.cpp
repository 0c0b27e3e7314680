#include <algorithm>

#include "platform/log.hpp"

namespace tracklight::platform {
namespace {
constexpr int64_t kMinuteMs = 60 * 1000;
constexpr size_t kMaxWhat = 200;  // a path can be 8 KiB; the line needs only its start
}  // namespace

void RefusalLog::refused(const std::string& rule, const std::string& client, const std::string& what) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = clock_.monotonic_ms();
  flush_locked(now);
  auto it = std::find_if(windows_.begin(), windows_.end(), [&](const Window& x) { return x.rule == rule; });
  if (it == windows_.end()) it = windows_.insert(windows_.end(), Window{rule, now, 0, 0});
  Window& w = *it;
  if (w.logged >= per_minute_) {
    ++w.suppressed;
    return;
  }
  ++w.logged;
  std::string shown = what.size() > kMaxWhat ? what.substr(0, kMaxWhat) + "..." : what;
  log_.warn("http", "refused " + client + " (rule " + rule + "): " + shown);
}

void RefusalLog::flush() {
  std::lock_guard<std::mutex> lock(mu_);
  flush_locked(clock_.monotonic_ms());
}

int64_t RefusalLog::next_flush_ms() {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t next = -1;
  for (const Window& w : windows_)
    if (w.suppressed > 0 && (next < 0 || w.start + kMinuteMs < next)) next = w.start + kMinuteMs;
  return next;
}

// A rule's window ends a minute after its first refusal; a quiet rule is forgotten, so the map
// holds at most the rules seen in the last minute.
void RefusalLog::flush_locked(int64_t now) {
  for (auto it = windows_.begin(); it != windows_.end();) {
    const Window& w = *it;
    if (now - w.start < kMinuteMs) {
      ++it;
      continue;
    }
    if (w.suppressed > 0)
      log_.warn("http", "suppressed " + std::to_string(w.suppressed) + " more refusals (rule " + w.rule +
                            ") in the last minute");
    it = windows_.erase(it);
  }
}

}  // namespace tracklight::platform
