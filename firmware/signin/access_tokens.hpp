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
    // A refresh token the fetch was given in exchange (rotation) and could not save with the
    // connection: kept with the slot and handed to the next fetch while the stored one is still
    // the one it replaced. `refresh_saved`: a rotated token was saved; the slot forgets its own.
    std::string refresh_token;
    bool refresh_saved = false;
    static Fetched token_of(std::string token, int64_t expires_in_s) {
      return {true, std::move(token), expires_in_s, "", "", "", "", false};
    }
    static Fetched failed(std::string status, std::string message, std::string hint) {
      return {false, "", 0, std::move(status), std::move(message), std::move(hint), "", false};
    }
  };
  // Fetches a token; `newest_refresh` is an unsaved refresh token a previous fetch for this key
  // received in place of the stored one ("" when none: use the stored one).
  using Fetch = std::function<Fetched(const std::string& newest_refresh)>;
  // The token kept under `key` while it has more than kMarginMs left, else the outcome of
  // `fetch`, kept on success. `refused`: a token the tracker refused; it is replaced unless
  // another caller already did. `fetch` runs with no other fetch for `key` running; a caller
  // that waited for one (at most `wait_ms`) shares its outcome. `from_cache` says whether the
  // token came from before this call. `stored_refresh`: the refresh token the caller's
  // connection holds (an unsaved newer one is used only in its place).
  Fetched get(const std::string& key, int64_t now_ms, int64_t wait_ms, const std::string& refused, bool& from_cache,
              const Fetch& fetch, const std::string& stored_refresh = "");
  // Keeps an access token obtained outside get() (an interactive sign-in just completed).
  void put(const std::string& key, int64_t now_ms, const std::string& token, int64_t expires_in_s);
  // The unsaved refresh token that replaced `stored_refresh` under `key` ("" when none). With
  // `take`, the caller has saved it: the slot forgets it.
  std::string unsaved_refresh(const std::string& key, const std::string& stored_refresh, bool take);
  void forget(const std::string& key);
  size_t size() const;
  int waiting() const { return waiting_; }  // callers waiting for another's fetch (tests)

 private:
  struct Slot {
    std::timed_mutex fetching;  // held while this key's token is fetched
    std::string token;
    // A rotated refresh token not saved with the connection, and the stored one it replaced.
    // Never evicted while set: it may be the only valid one.
    std::string unsaved_refresh, unsaved_over;
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
