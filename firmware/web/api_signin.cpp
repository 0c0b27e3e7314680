// Interactive sign-ins from the connection dialog (issue #10): POST /api/v1/signin starts one
// and shows the person what to do; GET /api/v1/signin/{id}?dialog= polls it (the agent asks the
// identity provider at most at the interval it gave); POST /api/v1/signin/{id} {"url"} hands
// over the address an OAuth 2.0 consent page sent the browser to (the callback page does it, or
// the person pastes it); Test and Connect then name it ("signin", "dialog") and use what it gave
// (apply_signin).
#include "firmware/signin/device_code.hpp"
#include "firmware/signin/jira_oauth2.hpp"
#include "firmware/model/connection_rules.hpp"
#include "firmware/model/report.hpp"
#include "firmware/model/text.hpp"
#include "firmware/model/url.hpp"
#include "firmware/web/connection_json.hpp"
#include "firmware/web/router.hpp"
#include "platform/crypto.hpp"

namespace tracklight::firmware {
namespace {

bool valid_nonce(const std::string& s) {
  if (s.size() < 16 || s.size() > 64) return false;
  for (char ch : s)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_') return false;
  return true;
}

std::string session_of(const HttpRequest& req) { return platform::sha256(cookie_value(req, kSessionCookie)); }

// {"state": "failed", "error": {status, message, hint}}: why a sign-in cannot go on.
nlohmann::json failed(const TokenFetch& why) {
  nlohmann::json e;
  e["status"] = why.status;
  e["message"] = why.message;
  e["hint"] = why.hint;
  nlohmann::json j;
  j["state"] = "failed";
  j["error"] = std::move(e);
  return j;
}

nlohmann::json describe(const PendingSignin& p, const std::string& id, int64_t now_ms) {
  nlohmann::json j = p.state == "failed" ? failed(p.outcome) : nlohmann::json::object();
  j["id"] = id;
  j["state"] = p.state;
  j["user_code"] = p.user_code;
  j["verification_uri"] = p.verification_uri;
  j["message"] = p.message;
  j["expires_in"] = p.code_expires_ms > now_ms ? (p.code_expires_ms - now_ms) / 1000 : 0;
  j["interval"] = p.interval_ms / 1000;
  if (p.state == "complete") j["account"] = p.account;
  if (!p.authorize_url.empty()) j["authorize_url"] = p.authorize_url;
  if (p.state == "complete" && p.cloud) {
    nlohmann::json sites = nlohmann::json::array();
    for (const auto& site : p.sites) sites.push_back({{"name", site.name}, {"url", site.url}});
    j["sites"] = std::move(sites);
  }
  return j;
}

// One poll of the identity provider, outside the lock; the entry is looked up again afterwards
// (a polled entry is never dropped meanwhile: see PendingSignins).
void poll_once(AgentState& s, std::unique_lock<std::mutex>& lock, const std::string& id) {
  PendingSignin* e = s.pending.get(id);
  const Connection settings = e->settings;
  const std::string device_code = e->device_code;
  e->polling = true;
  lock.unlock();
  TrackerEnv env{s.clock, s.https, s.opts.test_timeout_ms, nullptr, &s.signin};
  const DevicePoll got = entra_device_poll(settings, env, s.clock.monotonic_ms() + 10000, device_code);
  lock.lock();
  const int64_t now = s.clock.monotonic_ms();
  e = s.pending.get(id);
  if (!e) return;
  PendingSignin& p = *e;
  p.polling = false;
  switch (got.state) {
    case DevicePoll::SlowDown:
      p.interval_ms += 5000;  // RFC 8628 3.5
      [[fallthrough]];
    case DevicePoll::Pending:
      p.next_poll_ms = now + p.interval_ms;
      break;
    case DevicePoll::Done:
      p.state = "complete";
      p.outcome = got.outcome;
      p.account = got.account;
      p.device_code.clear();
      p.expires_ms = now + PendingSignins::kKeepDoneMs;
      s.log.info("signin", "device code sign-in completed" + (p.account.empty() ? std::string() : " for " + p.account));
      break;
    case DevicePoll::Failed:
      p.state = "failed";
      p.outcome = got.outcome;
      p.device_code.clear();
      s.log.info("signin", "device code sign-in failed: " + got.outcome.message);
      break;
  }
}

// Jira OAuth 2.0: Cloud or Data Center (serverInfo), then the consent page's address, whose
// state is the new sign-in's id. The person has 10 minutes to allow access.
// Why a sign-in ended when its time ran out: the device code's, or the consent's 10 minutes.
TokenFetch ran_out(const PendingSignin& p) {
  if (p.authorize_url.empty()) return device_code_expired();
  return TokenFetch::failed("not-authorized", "The sign-in took longer than 10 minutes",
                            "Press Sign in again and allow access without delay.");
}

HttpResponse start_jira_signin(AgentState& s, const HttpRequest& req, const Connection& c, const std::string& dialog,
                               TrackerEnv& env) {
  const JiraKind kind = jira_kind(c, env, s.clock.monotonic_ms() + s.opts.test_timeout_ms);
  if (!kind.ok) return json_response(200, failed(kind.failure));
  PendingSignin p;
  p.session = session_of(req);
  p.dialog = dialog;
  p.settings = c;
  p.cloud = kind.cloud;
  if (!kind.cloud) {
    auto raw = s.entropy.bytes(32);
    if (!raw) return error_response(500, "no_entropy", raw.error().message());
    p.verifier = pkce_verifier(*raw);
  }
  const int64_t now = s.clock.monotonic_ms();
  p.code_expires_ms = now + 10 * 60 * 1000;
  p.expires_ms = p.code_expires_ms + PendingSignins::kKeepDoneMs;
  std::lock_guard<std::mutex> lock(s.mu);
  auto id = s.pending.add(std::move(p), s.entropy, now);
  if (!id) return error_response(409, "too_many_signins", id.error().detail);
  PendingSignin& added = *s.pending.get(*id);
  added.authorize_url = jira_authorize_url(c, s.signin, added.cloud, *id, added.verifier);
  s.log.info("signin", std::string("Jira ") + (added.cloud ? "Cloud" : "Data Center") + " OAuth 2.0 sign-in started for " +
                           (c.id.empty() ? "(new)" : c.id));
  return json_response(200, describe(added, *id, now));
}

}  // namespace

HttpResponse handle_start_signin(AgentState& s, const HttpRequest& req, const std::string&) {
  nlohmann::json body;
  const std::string why = parse_json_body(req.body, body);
  if (!why.empty()) return error_response(400, "bad_json", why);
  const auto dialog = body.find("dialog");
  if (dialog == body.end() || !dialog->is_string() || !valid_nonce(*dialog))
    return error_response(400, "bad_field", "dialog must be the dialog's nonce: 16-64 letters, digits, - or _", "dialog");
  const auto conn = body.find("connection");
  if (conn == body.end() || !conn->is_object())
    return error_response(400, "bad_field", "connection must be the dialog's connection object", "connection");
  ConnectionInput in;
  JsonFieldError e = decode_connection(*conn, in);
  if (!e.field.empty()) return error_response(400, "bad_field", e.field + " " + e.message, e.field);
  {
    std::lock_guard<std::mutex> lock(s.mu);
    const Connection* stored = in.conn.id.empty() ? nullptr : s.config.find(in.conn.id);
    // A stored proxy password, when the proxy is the same; the sign-in itself needs no secret.
    if (secrets_not_carried(in, stored).empty()) (void)merge_stored_secrets(in, stored);
  }
  const bool jira = in.conn.provider == "jira" && in.conn.auth == "oauth2";
  if (!jira && (in.conn.provider != "azure-devops" || in.conn.auth != "device-code"))
    return error_response(400, "bad_field", "Sign in is for Jira OAuth 2.0 (oauth2) and Azure DevOps device code (device-code)", "auth");
  std::vector<FieldError> bad;
  for (const auto& f : validate_connection(in.conn))
    if (f.field != "refresh_token") bad.push_back(f);
  if (!bad.empty()) {
    Report r;
    r.status = "invalid";
    r.checks.push_back(field_check(bad));
    return json_response(422, {{"report", report_to_json(r)}});
  }
  {
    std::lock_guard<std::mutex> lock(s.mu);  // before Entra is asked for a code nobody could use
    if (!s.pending.has_room(session_of(req), *dialog, s.clock.monotonic_ms()))
      return error_response(409, "too_many_signins", PendingSignins::kFull);
  }
  TrackerEnv env{s.clock, s.https, s.opts.test_timeout_ms, nullptr, &s.signin};
  if (jira) return start_jira_signin(s, req, in.conn, *dialog, env);
  const DeviceCodeOffer offer = entra_device_code(in.conn, env, s.clock.monotonic_ms() + s.opts.test_timeout_ms);
  if (!offer.ok)
    return json_response(200, failed(offer.failure));
  PendingSignin p;
  p.session = session_of(req);
  p.dialog = dialog->get<std::string>();
  p.settings = in.conn;
  p.device_code = offer.device_code;
  p.user_code = offer.user_code;
  p.verification_uri = offer.verification_uri;
  p.message = offer.message;
  p.interval_ms = offer.interval_s * 1000;
  const int64_t now = s.clock.monotonic_ms();
  p.next_poll_ms = now + p.interval_ms;
  p.code_expires_ms = now + offer.expires_in_s * 1000;
  p.expires_ms = p.code_expires_ms + PendingSignins::kKeepDoneMs;  // to say why, after the code expired
  std::lock_guard<std::mutex> lock(s.mu);
  auto id = s.pending.add(std::move(p), s.entropy, now);
  if (!id) return error_response(409, "too_many_signins", id.error().detail);
  s.log.info("signin", "device code sign-in started for " + in.conn.provider + " " + (in.conn.id.empty() ? "(new)" : in.conn.id));
  return json_response(200, describe(*s.pending.find(*id, session_of(req), *dialog, now), *id, now));
}

HttpResponse handle_poll_signin(AgentState& s, const HttpRequest& req, const std::string& id) {
  const std::string* given = req.query_param("dialog");
  const std::string dialog = given ? *given : "";
  std::unique_lock<std::mutex> lock(s.mu);
  int64_t now = s.clock.monotonic_ms();
  PendingSignin* p = s.pending.find(id, session_of(req), dialog, now);
  if (!p) return error_response(404, "signin_not_found", "this sign-in has expired or was started elsewhere; press Sign in again");
  if (p->state == "waiting" && !p->polling && now >= p->code_expires_ms) {
    p->state = "failed";  // RFC 8628: polling stops when the code expires
    p->device_code.clear();
    p->outcome = ran_out(*p);
  } else if (p->state == "waiting" && !p->polling && now >= p->next_poll_ms && !p->device_code.empty()) {
    poll_once(s, lock, id);
    now = s.clock.monotonic_ms();
    p = s.pending.find(id, session_of(req), dialog, now);
    if (!p) return error_response(404, "signin_not_found", "this sign-in has expired or was started elsewhere; press Sign in again");
  }
  return json_response(200, describe(*p, id, now));
}

HttpResponse handle_signin_code(AgentState& s, const HttpRequest& req, const std::string& id) {
  nlohmann::json body;
  const std::string why = parse_json_body(req.body, body);
  if (!why.empty()) return error_response(400, "bad_json", why);
  for (const auto& [key, v] : body.items())
    if (key != "url") return error_response(400, "bad_field", key + " is not a known field", key);
  const auto url = body.find("url");
  if (url == body.end() || !url->is_string() || url->get<std::string>().size() > 8192)
    return error_response(400, "bad_field", "url must be the address the browser landed on (at most 8192 characters)", "url");
  std::unique_lock<std::mutex> lock(s.mu);
  PendingSignin* p = s.pending.find_for_session(id, session_of(req), s.clock.monotonic_ms());
  if (!p || p->authorize_url.empty())
    return error_response(404, "signin_not_found", "this sign-in has expired or was started elsewhere; press Sign in again");
  if (p->state != "waiting" || p->polling)  // a code is used once; a replayed state is refused
    return error_response(409, "signin_used", "this sign-in has already received its answer; press Sign in again for a new one");
  TokenFetch refused;
  bool denied = false;
  const std::string code = landed_code(*url, p->settings.redirect_uri, id, refused, denied);
  if (code.empty() && !denied) return error_response(422, "bad_url", refused.message + ". " + refused.hint, "url");
  if (s.clock.monotonic_ms() >= p->code_expires_ms) denied = true, refused = ran_out(*p);
  if (denied) {  // access refused on the consent page, or too late
    p->state = "failed";
    p->outcome = refused;
    return json_response(200, describe(*p, id, s.clock.monotonic_ms()));
  }
  p->polling = true;
  const Connection settings = p->settings;
  const std::string verifier = p->verifier;
  const bool cloud = p->cloud;
  lock.unlock();
  TrackerEnv env{s.clock, s.https, s.opts.test_timeout_ms, nullptr, &s.signin};
  CodeGrant got = jira_exchange_code(settings, env, s.clock.monotonic_ms() + s.opts.test_timeout_ms, cloud, code, verifier);
  lock.lock();
  const int64_t now = s.clock.monotonic_ms();
  p = s.pending.get(id);
  if (!p) return error_response(404, "signin_not_found", "this sign-in has expired; press Sign in again");
  p->polling = false;
  p->verifier.clear();
  p->state = got.outcome.ok ? "complete" : "failed";
  p->outcome = got.outcome;
  p->sites = std::move(got.sites);
  p->account = got.account;
  if (got.outcome.ok) p->expires_ms = now + PendingSignins::kKeepDoneMs;
  s.log.info("signin", "Jira OAuth 2.0 sign-in " + (got.outcome.ok ? std::string("completed") : "failed: " + got.outcome.message));
  return json_response(200, describe(*p, id, now));
}

HttpResponse apply_signin(AgentState& s, const HttpRequest& req, const std::string& id, const std::string& dialog,
                          ConnectionInput& in, bool claim) {
  PendingSignin* p = s.pending.find(id, session_of(req), dialog, s.clock.monotonic_ms());
  if (!p)
    return error_response(409, "signin_not_found", "the sign-in has expired or was started in another dialog; press Sign in again",
                          "refresh_token");
  if (p->state != "complete")
    return error_response(409, "signin_not_complete",
                          p->authorize_url.empty() ? "the sign-in is not complete yet: enter the code on the verification page first"
                                                   : "the sign-in is not complete yet: allow access on the page that opened first",
                          "refresh_token");
  if (p->claimed)
    return error_response(409, "signin_in_use", "another Connect is saving this sign-in; wait for it", "refresh_token");
  Connection started = p->settings;
  const AtlassianSite* site = p->cloud ? site_for(p->sites, in.conn.server_url) : nullptr;
  if (p->cloud && !site) {
    std::string names;
    for (const auto& s2 : p->sites) names += (names.empty() ? "" : ", ") + s2.url;
    return error_response(409, "signin_site", "the sign-in does not reach " + in.conn.server_url + "; it allows " + names +
                                                  ": set Server URL to one of them, or sign in again and allow that site",
                          "server_url");
  }
  if (site) started.server_url = in.conn.server_url;  // any site the person allowed
  // The credentials it was made with, when typed again: the checks use the sign-in's token, so
  // another secret (or header value) would be saved without ever being tried.
  bool retyped = in.secrets_given.count("client_secret") &&
                 !platform::constant_time_equal(in.conn.client_secret, started.client_secret);
  for (size_t i = 0; i < in.conn.headers.size(); ++i)
    for (const auto& h : started.headers)
      retyped = retyped || (in.header_value_given[i] && iequals(h.name, in.conn.headers[i].name) &&
                            !platform::constant_time_equal(h.value, in.conn.headers[i].value));
  if (retyped || !same_signin_settings(in.conn, started))
    return error_response(409, "signin_settings_changed",
                          "the sign-in was made for other settings (server, tenant, client, client secret, callback, authority host, proxy or CA certificate); press Sign in again",
                          "refresh_token");
  in.conn.refresh_token = p->outcome.refresh_token;
  in.conn.signed_in_as = p->account;
  in.conn.cloud_id = site ? site->id : "";
  in.secrets_given.insert("refresh_token");
  p->claimed = claim;  // used once: a second Connect cannot take it meanwhile
  return HttpResponse{0, "", "", {}, ""};
}

void keep_applied_signin(AgentState& s, const HttpRequest& req, const std::string& id, const std::string& dialog,
                         const Connection& c) {
  const int64_t now = s.clock.monotonic_ms();
  if (PendingSignin* p = s.pending.find(id, session_of(req), dialog, now)) keep_signin(s.signin, c, now, p->outcome);
}

}  // namespace tracklight::firmware
