#include "firmware/signin/pending_signins.hpp"

#include "firmware/model/connection_rules.hpp"
#include "firmware/model/text.hpp"
#include "platform/crypto.hpp"

namespace tracklight::firmware {

void PendingSignins::drop_expired(int64_t now_ms) {
  for (auto it = entries_.begin(); it != entries_.end();)
    it = it->second.expires_ms <= now_ms && !it->second.polling ? entries_.erase(it) : std::next(it);
}

void PendingSignins::drop_dialog(const std::string& session, const std::string& dialog) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    const PendingSignin& e = it->second;
    it = e.session == session && e.dialog == dialog && !e.polling && !e.claimed ? entries_.erase(it) : std::next(it);
  }
}

bool PendingSignins::has_room(const std::string& session, const std::string& dialog, int64_t now_ms) {
  drop_expired(now_ms);
  drop_dialog(session, dialog);  // a new Sign in in the same dialog replaces the earlier one
  size_t mine = 0;
  for (const auto& [id, e] : entries_) mine += e.session == session;
  return mine < kMaxPerSession && entries_.size() < kMax;
}

PendingSignin* PendingSignins::get(const std::string& id) {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

Result<std::string> PendingSignins::add(PendingSignin p, platform::Entropy& entropy, int64_t now_ms) {
  if (!has_room(p.session, p.dialog, now_ms))
    return Error{ErrorCode::Conflict, "sign-in", 0, kFull};
  auto raw = entropy.bytes(16);
  if (!raw) return raw.error();
  const std::string id = to_hex(*raw);
  entries_[id] = std::move(p);
  return id;
}

PendingSignin* PendingSignins::find(const std::string& id, const std::string& session, const std::string& dialog,
                                    int64_t now_ms) {
  PendingSignin* p = find_for_session(id, session, now_ms);
  return p && platform::constant_time_equal(p->dialog, dialog) ? p : nullptr;
}

PendingSignin* PendingSignins::find_for_session(const std::string& id, const std::string& session, int64_t now_ms) {
  drop_expired(now_ms);
  auto it = entries_.find(id);
  if (it == entries_.end()) return nullptr;
  PendingSignin& p = it->second;
  return platform::constant_time_equal(p.session, session) && p.expires_ms > now_ms ? &p : nullptr;
}

bool same_signin_settings(const Connection& draft, const Connection& started) {
  for (auto m : {&Connection::provider, &Connection::auth, &Connection::tenant_id, &Connection::client_id,
                 &Connection::proxy_url, &Connection::proxy_username, &Connection::redirect_uri})
    if (draft.*m != started.*m) return false;
  auto authority = [](const Connection& c) { return c.authority_host.empty() ? std::string(kDefaultAuthorityHost) : c.authority_host; };
  return same_origin(authority(draft), authority(started)) && server_secrets_may_follow(draft, started) &&
         draft.ca_cert == started.ca_cert;
}

}  // namespace tracklight::firmware
