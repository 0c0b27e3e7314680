// Sign-ins a person started in the connection dialog and has not used yet (issue #10, "State"):
// each is known by a random id (also the OAuth `state` nonce), answers only the session and the
// dialog that started it, lasts until its code expires, and is used once: Connect takes it.
// Not thread-safe: the owner locks (AgentState::mu).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include "firmware/model/connection.hpp"
#include "firmware/signin/access_tokens.hpp"
#include "firmware/signin/jira_oauth2.hpp"
#include "platform/entropy.hpp"
#include "platform/result.hpp"

namespace tracklight::firmware {

struct PendingSignin {
  std::string session;  // SHA-256 of the session id that started it
  std::string dialog;   // the dialog's own nonce
  Connection settings;  // what it was started with: it is used only with the same ones
  int64_t expires_ms = 0;       // then it is forgotten
  int64_t code_expires_ms = 0;  // the person must have signed in by then (expires_in)
  // The device code flow: what the person is shown, and the agent's polling.
  std::string device_code;  // a secret
  std::string user_code, verification_uri, message;
  int64_t interval_ms = 5000, next_poll_ms = 0;
  // Jira OAuth 2.0: where the person allows access (the id is its state), the PKCE verifier (a
  // secret; Data Center), and on Cloud the sites the person allowed.
  std::string authorize_url, verifier;
  bool cloud = false;
  std::vector<AtlassianSite> sites;
  bool polling = false;  // a poll or code exchange is under way (outside the lock)
  bool claimed = false;  // a Connect is using it: no second one may
  // The outcome: "waiting", "complete" (tokens and account set) or "failed" (outcome says why).
  std::string state = "waiting";
  TokenFetch outcome;
  std::string account;
};

class PendingSignins {
 public:
  static constexpr size_t kMax = 16;           // in all
  static constexpr size_t kMaxPerSession = 4;  // one client cannot crowd out the others
  static constexpr int64_t kKeepDoneMs = 15 * 60 * 1000;  // a completed sign-in waits this long for Connect
  static constexpr const char* kFull =
      "too many sign-ins are waiting; finish or close the other dialogs, or wait for their codes to expire";

  // Adds `p` under a new id, in place of the sign-ins its dialog started before; Conflict when
  // the session or the table is full of live ones (has_room says so beforehand).
  Result<std::string> add(PendingSignin p, platform::Entropy& entropy, int64_t now_ms);
  bool has_room(const std::string& session, const std::string& dialog, int64_t now_ms);
  // The live sign-in `id` of this session and dialog, or nullptr (unknown, expired, another
  // session's or another dialog's: the same answer, so ids cannot be probed).
  PendingSignin* find(const std::string& id, const std::string& session, const std::string& dialog, int64_t now_ms);
  // By id alone, for the one who holds it (a poll, a Connect): nullptr once gone.
  PendingSignin* get(const std::string& id);
  // The live sign-in `id` of this session, whichever dialog started it: the browser that comes
  // back from the consent page with the id as `state` knows no dialog.
  PendingSignin* find_for_session(const std::string& id, const std::string& session, int64_t now_ms);
  void remove(const std::string& id) { entries_.erase(id); }
  size_t size() const { return entries_.size(); }

 private:
  void drop_expired(int64_t now_ms);
  void drop_dialog(const std::string& session, const std::string& dialog);
  std::map<std::string, PendingSignin> entries_;
};

// Whether `draft` may use a sign-in started with `started`: the same provider, method, tenant,
// app, sign-in service, server, proxy and CA. A sign-in is bound to where it was made for.
bool same_signin_settings(const Connection& draft, const Connection& started);

}  // namespace tracklight::firmware
