#include "firmware/signin/access_tokens.hpp"

namespace tracklight::firmware {

std::shared_ptr<AccessTokens::Slot> AccessTokens::slot(const std::string& key, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = slots_.find(key);
  if (it != slots_.end()) return it->second;
  if (slots_.size() >= kMaxKept) {
    // Settings that changed leave their old key behind: drop the expired ones first, then any.
    for (auto i = slots_.begin(); i != slots_.end();)
      i = i->second->good_until_ms <= now_ms && i->second.use_count() == 1 ? slots_.erase(i) : std::next(i);
    if (slots_.size() >= kMaxKept) slots_.erase(slots_.begin());
  }
  return slots_[key] = std::make_shared<Slot>();
}

AccessTokens::Fetched AccessTokens::get(const std::string& key, int64_t now_ms, bool fresh, bool& from_cache,
                                        const std::function<Fetched()>& fetch) {
  std::shared_ptr<Slot> s = slot(key, now_ms);
  int64_t seen;
  {
    std::lock_guard<std::mutex> lock(mu_);
    seen = s->generation;
    if (!fresh && s->good_until_ms > now_ms) {
      from_cache = true;
      return {true, s->token, (s->good_until_ms - now_ms) / 1000};
    }
  }
  std::lock_guard<std::mutex> one_at_a_time(s->fetching);
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Another caller fetched while this one waited: its token is as new as ours would be.
    if (s->generation != seen && s->good_until_ms > now_ms) {
      from_cache = false;
      return {true, s->token, (s->good_until_ms - now_ms) / 1000};
    }
  }
  Fetched f = fetch();
  from_cache = false;
  std::lock_guard<std::mutex> lock(mu_);
  s->generation++;
  if (f.ok) {
    s->token = f.token;
    // A token that lives less than the margin is still used once, for this caller.
    s->good_until_ms = f.expires_in_s > 0 ? now_ms + f.expires_in_s * 1000 - kMarginMs : 0;
  } else {
    s->token.clear();
    s->good_until_ms = 0;
  }
  return f;
}

void AccessTokens::forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = slots_.find(key);
  if (it == slots_.end()) return;
  it->second->token.clear();
  it->second->good_until_ms = 0;
}

size_t AccessTokens::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return slots_.size();
}

}  // namespace tracklight::firmware
