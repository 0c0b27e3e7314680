// Admin sessions (in memory: a restart logs everyone out) and per-client login throttling.
// Both take the current monotonic time from the caller, so tests drive them with a fake clock.
// Not thread-safe: the owner locks.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include "platform/entropy.hpp"
#include "platform/result.hpp"

namespace tracklight::firmware {

struct Session {
  std::string csrf_token;
  int64_t last_used_ms = 0;
};

class SessionTable {
 public:
  static constexpr int64_t kIdleTimeoutMs = 12LL * 3600 * 1000;
  static constexpr size_t kMaxSessions = 32;

  Result<std::string> create(platform::Entropy& entropy, int64_t now_ms);  // returns the session id
  // The live session for this id (touching it), or nullptr.
  const Session* find(const std::string& id, int64_t now_ms);
  void remove(const std::string& id);
  void clear() { sessions_.clear(); }
  size_t size() const { return sessions_.size(); }

 private:
  // Keyed by SHA-256 of the id: the map's comparisons then leak nothing about a live id's
  // bytes to a client timing its guesses, and a memory dump holds no usable cookie.
  std::map<std::string, Session> sessions_;
};

// After kFreeAttempts failures a client waits 1 s, then 2, 4 ... up to 5 minutes before its next
// try. Other clients are unaffected. Memory is bounded: the oldest entries are dropped.
class LoginThrottle {
 public:
  static constexpr int kFreeAttempts = 5;
  static constexpr int64_t kMaxDelayMs = 300000;
  static constexpr size_t kMaxClients = 1024;

  int64_t wait_ms(const std::string& client, int64_t now_ms) const;  // 0 = may try now
  // Reserves an attempt before the (slow) password check: it counts as a failure until
  // succeeded() clears it, so parallel guesses from one client cannot all pass through the
  // free attempts while the first ones are still being hashed. Returns 0 when the attempt may
  // go ahead, else how long the client must wait (nothing is reserved then).
  int64_t begin(const std::string& client, int64_t now_ms);
  // The reserved attempt turned out wrong: the wait counts from now, not from begin(), so a
  // slow hash (a busy Pi) does not use up the delay while it runs.
  void failed_after_check(const std::string& client, int64_t now_ms);
  void failed(const std::string& client, int64_t now_ms);
  void succeeded(const std::string& client) { clients_.erase(client); }
  size_t size() const { return clients_.size(); }

 private:
  static int64_t delay_ms(int failures);  // once failures >= kFreeAttempts
  struct Entry {
    int failures = 0;
    int64_t next_ms = 0;
    int64_t last_ms = 0;
  };
  std::map<std::string, Entry> clients_;
};

// A one-time setup code: 10 characters of Crockford base32, shown as XXXXX-XXXXX.
Result<std::string> make_setup_code(platform::Entropy& entropy);
bool setup_code_matches(const std::string& given, const std::string& expected);

}  // namespace tracklight::firmware
