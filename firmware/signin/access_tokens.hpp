// Access tokens kept in memory (never written): one per connection's settings, used until 5
// minutes before it expires. A token is fetched by one caller at a time per connection; the
// others wait for it and use it, so two Tests, the monitor and the board never make two
// refreshes (a rotating refresh token would be spent twice). Thread-safe.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace tracklight::firmware {

class AccessTokens {
 public:
  static constexpr int64_t kMarginMs = 5 * 60 * 1000;  // renewed this long before it expires
  static constexpr size_t kMaxKept = 64;

  struct Fetched {
    bool ok = false;
    std::string token;
    int64_t expires_in_s = 0;
  };
  // The token kept under `key` while it has more than kMarginMs left (and `fresh` is false),
  // else the result of `fetch`, kept on success. `fetch` runs with no other fetch for `key`
  // running; a caller that waited for one uses its token. `from_cache` says which happened.
  Fetched get(const std::string& key, int64_t now_ms, bool fresh, bool& from_cache,
              const std::function<Fetched()>& fetch);
  void forget(const std::string& key);
  size_t size() const;

 private:
  struct Slot {
    std::mutex fetching;  // held while this key's token is fetched
    std::string token;
    int64_t good_until_ms = 0;  // monotonic; 0 = none
    int64_t generation = 0;     // counts fetches, so a waiter sees that one happened
  };
  std::shared_ptr<Slot> slot(const std::string& key, int64_t now_ms);

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Slot>> slots_;
};

}  // namespace tracklight::firmware
