// Access tokens kept in memory (never written): one per connection's settings, used until 5
// minutes before it expires. A token is fetched by one caller at a time per connection; the
// others wait for that fetch and share its outcome, token or failure, so two Tests, the monitor
// and the board never make two requests for one token (a rotating refresh token would be spent
// twice). Thread-safe.
#pragma once
#include <atomic>
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
    std::string status, message, hint;  // why not, when !ok (never a secret)
    // A refresh token the fetch was given in exchange (rotation): kept with the slot and handed
    // to the next fetch, whether or not the fetch succeeded otherwise (e.g. saving it failed).
    std::string refresh_token;
    static Fetched token_of(std::string token, int64_t expires_in_s) { return {true, std::move(token), expires_in_s, "", "", "", ""}; }
    static Fetched failed(std::string status, std::string message, std::string hint) {
      return {false, "", 0, std::move(status), std::move(message), std::move(hint), ""};
    }
  };
  // Fetches a token; `newest_refresh` is the refresh token a previous fetch for this key
  // received ("" when none: use the stored one).
  using Fetch = std::function<Fetched(const std::string& newest_refresh)>;
  // The token kept under `key` while it has more than kMarginMs left, else the outcome of
  // `fetch`, kept on success. `refused`: a token the tracker refused; it is replaced unless
  // another caller already did. `fetch` runs with no other fetch for `key` running; a caller
  // that waited for one (at most `wait_ms`) shares its outcome. `from_cache` says whether the
  // token came from before this call.
  Fetched get(const std::string& key, int64_t now_ms, int64_t wait_ms, const std::string& refused, bool& from_cache,
              const Fetch& fetch);
  // Keeps a token obtained outside get() (an interactive sign-in just completed), with the
  // refresh token that came with it.
  void put(const std::string& key, int64_t now_ms, const std::string& token, int64_t expires_in_s,
           const std::string& refresh_token);
  void forget(const std::string& key);
  size_t size() const;
  int waiting() const { return waiting_; }  // callers waiting for another's fetch (tests)

 private:
  struct Slot {
    std::timed_mutex fetching;  // held while this key's token is fetched
    std::string token;
    std::string refresh;        // the newest refresh token for these settings ("" = the stored one)
    int64_t good_until_ms = 0;  // monotonic; 0 = none
    int64_t generation = 0;     // counts fetches, so a waiter sees that one happened
    Fetched last;               // the last fetch's outcome, for those who waited for it
  };
  std::shared_ptr<Slot> slot(const std::string& key, int64_t now_ms);

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Slot>> slots_;
  std::atomic<int> waiting_{0};
};

// What asking a sign-in service for a token gave: the token, or why not and what to do.
using TokenFetch = AccessTokens::Fetched;

}  // namespace tracklight::firmware
