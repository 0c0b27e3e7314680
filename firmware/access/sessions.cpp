#include "firmware/access/sessions.hpp"
#include "firmware/model/text.hpp"

#include <algorithm>
#include <cctype>

#include "platform/crypto.hpp"

namespace tracklight::firmware {

Result<std::string> SessionTable::create(platform::Entropy& entropy, int64_t now_ms) {
  auto id = entropy.bytes(32);
  auto csrf = entropy.bytes(32);
  if (!id) return id.error();
  if (!csrf) return csrf.error();
  if (sessions_.size() >= kMaxSessions) {
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](const auto& a, const auto& b) {
      return a.second.last_used_ms < b.second.last_used_ms;
    });
    sessions_.erase(oldest);
  }
  std::string key = to_hex(*id);
  sessions_[platform::sha256(key)] = Session{to_hex(*csrf), now_ms};
  return key;
}

void SessionTable::remove(const std::string& id) { sessions_.erase(platform::sha256(id)); }

const Session* SessionTable::find(const std::string& id, int64_t now_ms) {
  if (id.empty()) return nullptr;
  auto it = sessions_.find(platform::sha256(id));
  if (it == sessions_.end()) return nullptr;
  if (now_ms - it->second.last_used_ms > kIdleTimeoutMs) {
    sessions_.erase(it);
    return nullptr;
  }
  it->second.last_used_ms = now_ms;
  return &it->second;
}

int64_t LoginThrottle::wait_ms(const std::string& client, int64_t now_ms) const {
  auto it = clients_.find(client);
  if (it == clients_.end()) return 0;
  return std::max<int64_t>(0, it->second.next_ms - now_ms);
}

int64_t LoginThrottle::delay_ms(int failures) {
  const int shift = std::min(failures - kFreeAttempts, 20);
  return std::min<int64_t>(1000LL << shift, kMaxDelayMs);
}

int64_t LoginThrottle::begin(const std::string& client, int64_t now_ms) {
  if (int64_t wait = wait_ms(client, now_ms)) return wait;
  failed(client, now_ms);
  return 0;
}

void LoginThrottle::failed_after_check(const std::string& client, int64_t now_ms) {
  auto it = clients_.find(client);
  if (it == clients_.end() || it->second.failures < kFreeAttempts) return;
  Entry& e = it->second;
  e.last_ms = now_ms;
  e.next_ms = std::max(e.next_ms, now_ms + delay_ms(e.failures));
}

void LoginThrottle::failed(const std::string& client, int64_t now_ms) {
  if (!clients_.count(client) && clients_.size() >= kMaxClients) {
    auto oldest = std::min_element(clients_.begin(), clients_.end(), [](const auto& a, const auto& b) {
      return a.second.last_ms < b.second.last_ms;
    });
    clients_.erase(oldest);
  }
  Entry& e = clients_[client];
  e.failures++;
  e.last_ms = now_ms;
  if (e.failures >= kFreeAttempts) e.next_ms = now_ms + delay_ms(e.failures);
}

Result<std::string> make_setup_code(platform::Entropy& entropy) {
  static const char* kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";  // Crockford: no I L O U
  auto raw = entropy.bytes(10);
  if (!raw) return raw.error();
  std::string code;
  for (size_t i = 0; i < raw->size(); ++i) {
    if (i == 5) code += '-';
    code += kAlphabet[static_cast<unsigned char>((*raw)[i]) & 31];
  }
  return code;
}

bool setup_code_matches(const std::string& given, const std::string& expected) {
  auto normal = [](const std::string& s) {
    std::string out;
    for (char c : s)
      if (c != '-' && c != ' ') out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
  };
  return !expected.empty() && platform::constant_time_equal(normal(given), normal(expected));
}

}  // namespace tracklight::firmware
