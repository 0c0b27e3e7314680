// Connections: list, get, Connect (PUT), delete, Test, and the status overview.
#include "firmware/web/connection_json.hpp"
#include "firmware/checks/tester.hpp"
#include "firmware/model/report.hpp"
#include "firmware/web/router.hpp"

namespace tracklight::firmware {
namespace {

// A completed sign-in the dialog names next to the connection: {"signin": id, "dialog": nonce}.
struct SigninRef {
  std::string id, dialog;
};

// The sign-in a Connect claimed (apply_signin): used once when the Connect saved, released for
// another try otherwise, however the handler returns.
struct SigninClaim {
  AgentState& s;
  std::string id;
  bool used = false;
  ~SigninClaim() {
    if (id.empty()) return;
    std::lock_guard<std::mutex> lock(s.mu);
    if (used) s.pending.remove(id);
    else if (PendingSignin* p = s.pending.get(id)) p->claimed = false;
  }
};

// Decodes a connection body; on failure `refused` carries the 400 answer.
bool read_connection(const HttpRequest& req, ConnectionInput& in, SigninRef& ref, HttpResponse& refused) {
  if (req.body.empty()) {
    refused = error_response(400, "body_required",
                             "the request has no body; send the connection as a JSON object (name, provider, server_url, auth and its secrets)");
    return false;
  }
  nlohmann::json j;
  std::string why = parse_json_body(req.body, j);
  if (!why.empty()) {
    refused = error_response(400, "bad_json", why);
    return false;
  }
  for (auto [key, out] : {std::pair<const char*, std::string*>{"signin", &ref.id}, {"dialog", &ref.dialog}}) {
    auto it = j.find(key);
    if (it == j.end()) continue;
    if (!it->is_string() || it->get<std::string>().size() > 64) {
      refused = error_response(400, "bad_field", std::string(key) + " must be the id the sign-in was given", key);
      return false;
    }
    *out = it->get<std::string>();
    j.erase(it);
  }
  JsonFieldError e = decode_connection(j, in);
  if (!e.field.empty()) {
    refused = error_response(400, e.message == "is not a known field" ? "unknown_field" : "bad_field",
                             e.field + " " + e.message, e.field);
    return false;
  }
  return true;
}

// The connection as the API shows it: the monitor's status and times where it has them.
nlohmann::json with_health(const AgentState& s, const Connection& c) {
  nlohmann::json j = encode_connection(c);
  ConnectionHealth h;
  if (s.monitor && s.monitor->health(c.id, h)) {
    j["status"] = h.status;
    j["last_check"] = h.last_check_s ? nlohmann::json(iso_time(h.last_check_s)) : nlohmann::json(nullptr);
    j["last_error"] = h.last_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(h.last_error);
    j["warning"] = h.warning.empty() ? nlohmann::json(nullptr) : nlohmann::json(h.warning);
  }
  return j;
}

// 400 naming every stored secret the request would carry to a different server.
HttpResponse not_carried(const std::vector<std::string>& names) {
  std::vector<std::string> typed;
  for (const auto& n : names)
    if (n != "refresh_token") typed.push_back(n);
  const bool signin = typed.size() < names.size();  // a sign-in cannot be typed: it is made again
  std::string list;
  for (size_t i = 0; i < typed.size(); ++i) list += (i == 0 ? "" : i + 1 == typed.size() ? " and " : ", ") + typed[i];
  const bool one = typed.size() == 1;
  std::string msg = "the server, sign-in (authority host) or proxy address (scheme, host or port) or the CA certificate changed, so the stored ";
  if (!typed.empty()) msg += list + (one ? " is" : " are") + " not sent there: enter " + (one ? "it" : "them") + " again";
  if (signin) msg += std::string(typed.empty() ? "" : "; the stored ") + "sign-in is not used there: press Sign in again";
  return json_response(400, {{"error", {{"code", "secret_not_carried"}, {"message", msg}, {"field", names.front()}, {"fields", names}}}});
}

HttpResponse invalid_report(const JsonFieldError& e) {
  Report r;
  r.status = "invalid";
  r.checks.push_back(field_check({{e.field, e.message}}));
  return json_response(422, {{"report", report_to_json(r)}});
}

}  // namespace

HttpResponse handle_list_connections(AgentState& s, const HttpRequest&, const std::string&) {
  std::lock_guard<std::mutex> lock(s.mu);
  nlohmann::json list = nlohmann::json::array();
  for (const auto& c : s.config.connections) list.push_back(with_health(s, c));
  return json_response(200, {{"connections", list}});
}

HttpResponse handle_get_connection(AgentState& s, const HttpRequest&, const std::string& id) {
  std::lock_guard<std::mutex> lock(s.mu);
  const Connection* c = s.config.find(id);
  if (!c) return error_response(404, "not_found", "no connection with id " + id);
  return json_response(200, with_health(s, *c));
}

HttpResponse handle_put_connection(AgentState& s, const HttpRequest& req, const std::string& id) {
  if (!valid_connection_id(id))
    return error_response(400, "bad_field", "id must be 1-32 characters of a-z, 0-9 and '-', starting with a letter or digit", "id");
  const std::string* verify = req.query_param("verify");
  if (verify && *verify != "true" && *verify != "false")
    return error_response(400, "bad_field", "verify must be true or false", "verify");
  ConnectionInput in;
  SigninRef ref;
  HttpResponse refused;
  if (!read_connection(req, in, ref, refused)) return refused;
  SigninClaim claim{s, ""};
  std::string signed_in_with;  // the refresh token of the sign-in this Connect claimed
  if (!in.conn.id.empty() && in.conn.id != id)
    return error_response(400, "bad_field", "id in the body (" + in.conn.id + ") differs from the URL (" + id + ")", "id");
  in.conn.id = id;
  bool existed = false;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    const Connection* stored = s.config.find(id);
    existed = stored != nullptr;
    if (!ref.id.empty() && (refused = apply_signin(s, req, ref.id, ref.dialog, in, true)).status) return refused;
    claim.id = ref.id;
    signed_in_with = in.conn.refresh_token;
    const std::vector<std::string> bound = secrets_not_carried(in, stored);
    if (!bound.empty()) return not_carried(bound);
    JsonFieldError missing = merge_stored_secrets(in, stored);
    if (!missing.field.empty()) return invalid_report(missing);
    if (!ref.id.empty()) keep_applied_signin(s, req, ref.id, ref.dialog, in.conn);
    if (stored) in.conn.unknown = stored->unknown;
    if (!stored && s.config.connections.size() >= kMaxConnections)
      return error_response(409, "too_many_connections", "at most 32 connections; remove one first");
  }
  // The network checks take seconds: the state is not locked meanwhile.
  TrackerEnv env{s.clock, s.https, s.opts.test_timeout_ms, nullptr, &s.signin};
  Report report = run_test(in.conn, env, !(verify && *verify == "false"));
  if (!report.ok) return json_response(422, {{"report", report_to_json(report)}});
  in.conn.saved_status = report.status == "authorized" ? "authorized" : "not-verified";
  if (in.conn.project.empty() && !report.detected_project.empty()) in.conn.project = report.detected_project;
  // The Test took seconds: decide again on the configuration as it is now, so a DELETE or
  // another create meanwhile is neither undone nor pushed past the limit.
  Status st = s.commit([&](Config& next) -> Status {
    Connection* slot = next.find(id);
    if (existed && !slot)
      return Error{ErrorCode::Conflict, "", 0, "connection " + id + " was removed while it was being tested; nothing was saved"};
    if (!existed && slot)
      return Error{ErrorCode::Conflict, "", 0, "connection " + id + " was created by another request meanwhile; reload and try again"};
    if (!slot && next.connections.size() >= kMaxConnections)
      return Error{ErrorCode::Conflict, "", 0, "at most 32 connections; remove one first"};
    // A renewal during the Test rotated the refresh token: keep the newer one.
    if (slot && !in.secrets_given.count("refresh_token") && slot->signed_in_as == in.conn.signed_in_as)
      in.conn.refresh_token = slot->refresh_token;
    if (!ref.id.empty()) {
      const std::string newer = unsaved_refresh(s.signin, in.conn, signed_in_with, false);
      if (!newer.empty()) in.conn.refresh_token = newer;
    }
    if (slot) *slot = in.conn;
    else next.connections.push_back(in.conn);
    return ok_status();
  });
  if (!st) return commit_failed(st);
  claim.used = true;
  if (!ref.id.empty()) (void)unsaved_refresh(s.signin, in.conn, signed_in_with, true);  // saved now
  if (s.monitor && report.status == "authorized") s.monitor->record_test(in.conn, report);
  s.log.info("connections", std::string(existed ? "updated " : "added ") + in.conn.provider + " connection " + id +
                                " (" + effective_status(in.conn) + ")");
  return json_response(200, {{"connection", with_health(s, in.conn)}, {"report", report_to_json(report)}});
}

HttpResponse handle_delete_connection(AgentState& s, const HttpRequest&, const std::string& id) {
  Connection removed;
  Status st = s.commit([&](Config& next) -> Status {
    auto it = std::find_if(next.connections.begin(), next.connections.end(), [&](const Connection& c) { return c.id == id; });
    if (it == next.connections.end()) return Error{ErrorCode::NotFound, "", 0, "no connection with id " + id};
    removed = *it;
    next.connections.erase(it);
    return ok_status();
  });
  if (!st) return commit_failed(st);
  forget_token(s.signin, removed);  // a removed connection's token is not kept in memory
  s.log.info("connections", "removed connection " + id);
  return json_response(200, {{"deleted", id}});
}

HttpResponse handle_test_connection(AgentState& s, const HttpRequest& req, const std::string&) {
  ConnectionInput in;
  SigninRef ref;
  HttpResponse refused;
  if (!read_connection(req, in, ref, refused)) return refused;
  std::unique_lock<std::mutex> lock(s.mu);
  const Connection* stored = in.conn.id.empty() ? nullptr : s.config.find(in.conn.id);
  if (!ref.id.empty() && (refused = apply_signin(s, req, ref.id, ref.dialog, in, false)).status) return refused;
  const std::vector<std::string> bound = secrets_not_carried(in, stored);
  if (!bound.empty()) return not_carried(bound);
  JsonFieldError missing = merge_stored_secrets(in, stored);
  if (!ref.id.empty()) keep_applied_signin(s, req, ref.id, ref.dialog, in.conn);
  lock.unlock();
  if (!missing.field.empty()) {
    Report r;
    r.status = "invalid";
    r.checks.push_back(field_check({{missing.field, missing.message}}));
    return json_response(200, report_to_json(r));
  }
  TrackerEnv env{s.clock, s.https, s.opts.test_timeout_ms, nullptr, &s.signin};
  Report report = run_test(in.conn, env);
  s.log.info("connections", "Test of " + in.conn.provider + " " + (in.conn.id.empty() ? "(new)" : in.conn.id) + ": " + report.status);
  return json_response(200, report_to_json(report));
}

HttpResponse handle_status(AgentState& s, const HttpRequest&, const std::string&) {
  std::lock_guard<std::mutex> lock(s.mu);
  nlohmann::json list = nlohmann::json::array();
  for (const auto& c : s.config.connections) {
    ConnectionHealth h;
    h.status = effective_status(c);
    if (s.monitor) s.monitor->health(c.id, h);
    auto time_or_null = [](int64_t t) { return t ? nlohmann::json(iso_time(t)) : nlohmann::json(nullptr); };
    list.push_back({{"id", c.id}, {"name", c.name}, {"provider", c.provider}, {"status", h.status},
                    {"last_check", time_or_null(h.last_check_s)}, {"next_check", time_or_null(h.next_check_s)},
                    {"last_error", h.last_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(h.last_error)},
                    {"warning", h.warning.empty() ? nlohmann::json(nullptr) : nlohmann::json(h.warning)}});
  }
  nlohmann::json body = {{"version", TRACKLIGHT_VERSION},
                         {"uptime_s", (s.clock.monotonic_ms() - s.started_ms) / 1000},
                         {"connections", list}};
  body["config_problem"] = s.config_problem.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.config_problem);
  return json_response(200, body);
}

}  // namespace tracklight::firmware
