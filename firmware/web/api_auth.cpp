// Setup, login, logout, session (SPEC section 2).
#include <cmath>

#include "firmware/access/admin_password.hpp"
#include "firmware/web/connection_json.hpp"
#include "firmware/web/router.hpp"

namespace tracklight::firmware {
namespace {

// Reads a body of string fields only; any other field is an error naming it.
HttpResponse read_string_fields(const HttpRequest& req, std::initializer_list<const char*> names,
                                std::map<std::string, std::string>& out) {
  if (req.body.empty()) {
    std::string wanted;
    for (const char* n : names) wanted += std::string(wanted.empty() ? "" : ", ") + n;
    return error_response(400, "body_required", "the request has no body; send a JSON object with " + wanted);
  }
  nlohmann::json j;
  std::string why = parse_json_body(req.body, j);
  if (!why.empty()) return error_response(400, "bad_json", why);
  for (const auto& [key, v] : j.items()) {
    bool known = false;
    for (const char* n : names) known = known || key == n;
    if (!known) return error_response(400, "unknown_field", key + " is not a known field", key);
    if (!v.is_string()) return error_response(400, "bad_field", key + " must be a string", key);
    out[key] = v.get<std::string>();
  }
  return HttpResponse{0, "", "", {}, ""};
}

HttpResponse too_many(int64_t wait_ms) {
  int64_t secs = (wait_ms + 999) / 1000;
  HttpResponse r = error_response(429, "rate_limited", "too many failed attempts; try again in " + std::to_string(secs) + " s");
  r.headers.emplace_back("Retry-After", std::to_string(secs));
  return r;
}

// PBKDF2 holds a worker for a long moment by design; from many addresses at once, guesses could
// take every worker. Beyond this many hashes in flight a login is answered "busy" instead.
constexpr int kMaxConcurrentHashes = 2;

HttpResponse busy() {
  HttpResponse r = error_response(429, "busy", "the agent is checking other passwords; try again in a second");
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

// A hash slot taken under s.mu; given back when the check is over.
struct HashSlot {
  AgentState& s;
  ~HashSlot() {
    std::lock_guard<std::mutex> lock(s.mu);
    --s.hashing;
  }
};

// Opens a session and answers with its cookie and CSRF token. Caller holds s.mu.
HttpResponse open_session(AgentState& s) {
  auto id = s.sessions.create(s.entropy, s.clock.monotonic_ms());
  if (!id) return error_response(500, "internal_error", "no randomness available for a session");
  const Session* session = s.sessions.find(*id, s.clock.monotonic_ms());
  HttpResponse r = json_response(200, {{"ok", true}, {"csrf_token", session->csrf_token}});
  r.headers.emplace_back("Set-Cookie", std::string(kSessionCookie) + "=" + *id + "; Path=/; HttpOnly; SameSite=Strict" +
                                           (s.opts.https_port > 0 ? "; Secure" : ""));
  return r;
}

}  // namespace

HttpResponse handle_healthz(AgentState&, const HttpRequest&, const std::string&) {
  return json_response(200, {{"ok", true}, {"version", TRACKLIGHT_VERSION}});
}

HttpResponse handle_setup(AgentState& s, const HttpRequest& req, const std::string&) {
  std::map<std::string, std::string> f;
  HttpResponse bad = read_string_fields(req, {"setup_code", "password"}, f);
  if (bad.status) return bad;
  const std::string client = "setup:" + req.remote_addr;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (!s.config.agent.admin_password_hash.empty())
      return error_response(403, "already_set_up", "the admin password is already set; log in, or reset it with 'tracklight passwd'");
    if (int64_t wait = s.throttle.wait_ms(client, s.clock.monotonic_ms())) return too_many(wait);
    if (!setup_code_matches(f["setup_code"], s.setup_code)) {
      s.throttle.failed(client, s.clock.monotonic_ms());
      s.log.warn("setup", "wrong setup code from " + req.remote_addr);
      // Where the code is kept belongs in the log, not in an answer to an unauthenticated client.
      return error_response(403, "bad_setup_code",
                            "the setup code is wrong; it is in the agent's log and in the file setup-code in its state directory",
                            "setup_code");
    }
  }
  std::string problem = password_problem(f["password"]);
  if (!problem.empty()) return error_response(400, "bad_field", "password: " + problem, "password");
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.hashing >= kMaxConcurrentHashes) return busy();
    ++s.hashing;
  }
  Result<std::string> hash = [&] {
    HashSlot slot{s};
    return s.opts.password_iterations ? hash_password(f["password"], s.entropy, s.opts.password_iterations)
                                      : hash_password(f["password"], s.entropy);
  }();
  if (!hash) {
    s.log.error("setup", "could not hash the password: " + hash.error().message());
    return error_response(500, "internal_error", "could not hash the password; see the agent's log");
  }
  Status st = s.commit([&](Config& next) -> Status {
    if (!next.agent.admin_password_hash.empty()) return Error{ErrorCode::Conflict, "", 0, "the admin password is already set"};
    next.agent.admin_password_hash = *hash;
    return ok_status();
  });
  if (!st && st.error().code == ErrorCode::Conflict) return error_response(403, "already_set_up", st.error().detail);
  if (!st) return error_response(500, "save_failed", "could not save the configuration; see the agent's log");
  std::lock_guard<std::mutex> lock(s.mu);
  s.setup_code.clear();
  (void)s.fs.remove(s.opts.state_dir + "/setup-code");
  s.throttle.succeeded(client);
  s.log.info("setup", "admin password set from " + req.remote_addr);
  return open_session(s);
}

HttpResponse handle_login(AgentState& s, const HttpRequest& req, const std::string&) {
  std::map<std::string, std::string> f;
  HttpResponse bad = read_string_fields(req, {"password"}, f);
  if (bad.status) return bad;
  std::string hash;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    hash = s.config.agent.admin_password_hash;
    if (hash.empty()) return error_response(401, "setup_required", "set the admin password first");
    if (s.hashing >= kMaxConcurrentHashes) return busy();
    if (int64_t wait = s.throttle.begin(req.remote_addr, s.clock.monotonic_ms())) return too_many(wait);
    ++s.hashing;
  }
  const bool ok = [&] {
    HashSlot slot{s};
    return verify_password(f["password"], hash);  // slow by design: outside the lock
  }();
  std::lock_guard<std::mutex> lock(s.mu);
  if (!ok) {
    s.throttle.failed_after_check(req.remote_addr, s.clock.monotonic_ms());  // counted by begin()
    s.log.warn("auth", "failed login from " + req.remote_addr);
    return error_response(401, "bad_password", "wrong password", "password");
  }
  s.throttle.succeeded(req.remote_addr);
  s.log.info("auth", "login from " + req.remote_addr);
  return open_session(s);
}

HttpResponse handle_logout(AgentState& s, const HttpRequest& req, const std::string&) {
  std::lock_guard<std::mutex> lock(s.mu);
  s.sessions.remove(cookie_value(req, kSessionCookie));
  HttpResponse r = json_response(200, {{"ok", true}});
  r.headers.emplace_back("Set-Cookie", std::string(kSessionCookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" +
                                           std::string(s.opts.https_port > 0 ? "; Secure" : ""));
  return r;
}

HttpResponse handle_session(AgentState& s, const HttpRequest& req, const std::string&) {
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.config.agent.admin_password_hash.empty())
    return error_response(401, "setup_required", "set the admin password first (setup code in the agent's state directory)");
  const Session* session = s.sessions.find(cookie_value(req, kSessionCookie), s.clock.monotonic_ms());
  if (!session) return error_response(401, "not_logged_in", "log in first");
  return json_response(200, {{"csrf_token", session->csrf_token}});
}

}  // namespace tracklight::firmware
