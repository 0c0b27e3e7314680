#include "firmware/signin/access_tokens.hpp"

#include <chrono>

namespace tracklight::firmware {

std::shared_ptr<AccessTokens::Slot> AccessTokens::slot(const std::string& key, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = slots_.find(key);
  if (it != slots_.end()) return it->second;
  // Settings that changed leave their old key behind: drop expired ones nobody is using, then
  // any unused one. A slot in use stays (its fetch must remain the only one), even over the cap.
  auto spare = [](const std::shared_ptr<Slot>& s) { return s.use_count() == 1 && s->unsaved_refresh.empty(); };
  for (auto i = slots_.begin(); i != slots_.end() && slots_.size() >= kMaxKept;)
    i = spare(i->second) && i->second->good_until_ms <= now_ms ? slots_.erase(i) : std::next(i);
  for (auto i = slots_.begin(); i != slots_.end() && slots_.size() >= kMaxKept;)
    i = spare(i->second) ? slots_.erase(i) : std::next(i);
  return slots_[key] = std::make_shared<Slot>();
}

AccessTokens::Fetched AccessTokens::get(const std::string& key, int64_t now_ms, int64_t wait_ms,
                                        const std::string& refused, bool& from_cache,
                                        const Fetch& fetch, const std::string& stored_refresh) {
  std::shared_ptr<Slot> s = slot(key, now_ms);
  int64_t seen;
  from_cache = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    seen = s->generation;
    if (s->good_until_ms > now_ms && s->token != refused) {
      from_cache = true;
      return Fetched::token_of(s->token, (s->good_until_ms - now_ms) / 1000);
    }
  }
  waiting_++;
  std::unique_lock<std::timed_mutex> one_at_a_time(s->fetching, std::defer_lock);
  const bool got = one_at_a_time.try_lock_for(std::chrono::milliseconds(wait_ms > 0 ? wait_ms : 0));
  waiting_--;
  if (!got) return Fetched::failed("interrupted", "another sign-in for the same settings is still running", "Try again in a moment.");
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Another caller fetched while this one waited: its outcome is as new as ours would be (a
    // second request would spend a rotating refresh token twice, or repeat a refusal).
    if (s->generation != seen) return s->last;
  }
  std::string newest;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (s->unsaved_over == stored_refresh) newest = s->unsaved_refresh;
  }
  Fetched f = fetch(newest);
  std::lock_guard<std::mutex> lock(mu_);
  s->generation++;
  if (!f.refresh_token.empty()) {
    s->unsaved_refresh = std::move(f.refresh_token);
    s->unsaved_over = stored_refresh;
  } else if (f.refresh_saved && s->unsaved_over == stored_refresh) {  // saved over its own predecessor
    s->unsaved_refresh.clear();
    s->unsaved_over.clear();
  }
  f.refresh_token.clear();  // the slot keeps it; no copy goes to the callers
  // A token that lives less than the margin is still used once, by this caller.
  s->token = f.ok ? f.token : "";
  s->good_until_ms = f.ok && f.expires_in_s > 0 ? now_ms + f.expires_in_s * 1000 - kMarginMs : 0;
  s->last = f;
  return f;
}

void AccessTokens::put(const std::string& key, int64_t now_ms, const std::string& token, int64_t expires_in_s) {
  std::shared_ptr<Slot> s = slot(key, now_ms);
  std::lock_guard<std::mutex> lock(mu_);
  s->generation++;
  s->token = token;
  s->good_until_ms = expires_in_s > 0 ? now_ms + expires_in_s * 1000 - kMarginMs : 0;
  s->last = Fetched::token_of(token, expires_in_s);
}

std::string AccessTokens::unsaved_refresh(const std::string& key, const std::string& stored_refresh, bool take) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = slots_.find(key);
  if (it == slots_.end() || it->second->unsaved_refresh.empty() || it->second->unsaved_over != stored_refresh) return "";
  std::string newest = it->second->unsaved_refresh;
  if (take) {
    it->second->unsaved_refresh.clear();
    it->second->unsaved_over.clear();
  }
  return newest;
}

void AccessTokens::forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = slots_.find(key);
  if (it == slots_.end()) return;
  it->second->token.clear();
  it->second->unsaved_refresh.clear();
  it->second->unsaved_over.clear();
  it->second->good_until_ms = 0;
}

size_t AccessTokens::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return slots_.size();
}

}  // namespace tracklight::firmware
