#include "firmware/web/router.hpp"

#include "firmware/model/connection_rules.hpp"
#include "firmware/model/text.hpp"
#include "firmware/model/url.hpp"
#include "firmware/web/assets.hpp"
#include "platform/crypto.hpp"

namespace tracklight::firmware {
namespace {

const Route kRoutes[] = {
    {"GET", "/healthz", Access::Public, handle_healthz},
    {"POST", "/api/v1/setup", Access::SetupPhase, handle_setup},
    {"POST", "/api/v1/login", Access::SetupPhase, handle_login},
    {"GET", "/api/v1/session", Access::SetupPhase, handle_session},
    {"POST", "/api/v1/logout", Access::Admin, handle_logout},
    {"GET", "/api/v1/connections", Access::Admin, handle_list_connections},
    {"POST", "/api/v1/connections/test", Access::Admin, handle_test_connection},
    {"GET", "/api/v1/connections/{id}", Access::Admin, handle_get_connection},
    {"PUT", "/api/v1/connections/{id}", Access::Admin, handle_put_connection},
    {"DELETE", "/api/v1/connections/{id}", Access::Admin, handle_delete_connection},
    {"GET", "/api/v1/status", Access::Admin, handle_status},
    {"POST", "/api/v1/signin", Access::Admin, handle_start_signin},
    {"GET", "/api/v1/signin/{id}", Access::Admin, handle_poll_signin},
    {"POST", "/api/v1/signin/{id}", Access::Admin, handle_signin_code},
    {"GET", "/board", Access::Board, handle_board_page},
    {"GET", "/api/v1/board", Access::Board, handle_board},
    {"GET", "/cc.xml", Access::Board, handle_cctray},
    {"GET", "/metrics", Access::Board, handle_metrics},
    {"POST", "/api/v1/board/key", Access::Admin, handle_rotate_board_key},
    {"GET", "/api/v1/device-key", Access::Admin, handle_device_key},
    {"GET", "/api/v1/export", Access::Admin, handle_export},
    {"POST", "/api/v1/import", Access::Admin, handle_import},
};

bool path_matches(const std::string& pattern, const std::string& path, std::string& id) {
  const std::string param = "{id}";
  if (pattern.size() > param.size() && pattern.compare(pattern.size() - param.size(), param.size(), param) == 0) {
    std::string prefix = pattern.substr(0, pattern.size() - param.size());
    if (path.compare(0, prefix.size(), prefix) != 0 || path.size() == prefix.size()) return false;
    id = path.substr(prefix.size());
    return id.find('/') == std::string::npos;
  }
  return pattern == path;
}

// A refusal that the server logs, rate-limited, with the client address and this rule.
HttpResponse refusal(int status, const char* rule, const std::string& message) {
  HttpResponse r = error_response(status, rule, message);
  r.refused_by = rule;
  return r;
}

bool is_write(const std::string& method) { return method != "GET" && method != "HEAD" && method != "OPTIONS"; }

// DNS-rebinding defence: a page on attacker.example that resolves to this device must not be
// able to talk to it, so only names we know are ours are accepted.
bool host_allowed(const AgentState& s, const std::string& host_header) {
  std::string host = host_header, port;
  if (!host.empty() && host[0] == '[') {
    size_t close = host.find(']');
    if (close == std::string::npos) return false;
    port = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!is_ipv6_literal(host)) return false;
    if (!port.empty() && port[0] != ':') return false;
    port = port.empty() ? "" : port.substr(1);
  } else {
    size_t colon = host.find(':');
    if (colon != std::string::npos) {
      port = host.substr(colon + 1);
      host = host.substr(0, colon);
    }
  }
  if (host_header.find(':') != std::string::npos && host_header[0] != '[' && port.empty()) return false;
  for (char c : port)
    if (c < '0' || c > '9') return false;
  if (port.size() > 5) return false;
  host = lower(host);
  if (is_ipv4_literal(host) || is_ipv6_literal(host) || host == "localhost") return true;
  if (!s.opts.host_name.empty() && (host == lower(s.opts.host_name) || host == lower(s.opts.host_name) + ".local"))
    return true;
  for (const auto& h : s.opts.allowed_hosts)
    if (host == lower(h)) return true;
  for (const auto& h : s.config.agent.allowed_hosts)
    if (host == lower(h)) return true;
  return false;
}

// A cross-site page cannot set these headers without our consent (we never send CORS headers),
// and a browser always sends Origin on a cross-origin write.
HttpResponse check_write_origin(const HttpRequest& req) {
  const std::string* site = req.header("Sec-Fetch-Site");
  if (site && *site == "cross-site")
    return refusal(403, "cross_site", "cross-site requests are refused");
  const std::string* origin = req.header("Origin");
  const std::string* host = req.header("Host");
  if (origin && host && !(iequals(*origin, "http://" + *host) || iequals(*origin, "https://" + *host)))
    return refusal(403, "origin_refused", "the request came from another site (Origin " + *origin + ")");
  if (!req.body.empty()) {
    const std::string* ct = req.header("Content-Type");
    if (!ct || lower(ct->substr(0, ct->find(';'))) != "application/json")
      return error_response(415, "unsupported_media_type", "send the body as application/json");
  }
  return HttpResponse{0, "", "", {}, ""};
}

HttpResponse check_admin(AgentState& s, const HttpRequest& req) {
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.config.agent.admin_password_hash.empty())
    return error_response(401, "setup_required", "set the admin password first (setup code in the agent's state directory)");
  const Session* session = s.sessions.find(cookie_value(req, kSessionCookie), s.clock.monotonic_ms());
  if (!session) return error_response(401, "not_logged_in", "log in first");
  if (is_write(req.method)) {
    const std::string* token = req.header("X-CSRF-Token");
    if (!token || !platform::constant_time_equal(*token, session->csrf_token))
      return refusal(403, "csrf_token_invalid", "missing or wrong X-CSRF-Token header; reload the page");
  }
  return HttpResponse{0, "", "", {}, ""};
}

bool is_loopback(const std::string& addr) {
  return addr.rfind("127.", 0) == 0 || addr == "::1" || addr.rfind("::ffff:127.", 0) == 0;
}

// The wall screen in the office has no login: the device itself, a logged-in admin, or the
// board key. A wrong key is refused like no key.
HttpResponse check_board(AgentState& s, const HttpRequest& req) {
  if (is_loopback(req.remote_addr)) return HttpResponse{0, "", "", {}, ""};
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.sessions.find(cookie_value(req, kSessionCookie), s.clock.monotonic_ms())) return HttpResponse{0, "", "", {}, ""};
  const std::string* key = req.query_param("key");
  if (key && !s.config.agent.board_key_hash.empty() &&
      platform::constant_time_equal(board_key_hash(*key), s.config.agent.board_key_hash))
    return HttpResponse{0, "", "", {}, ""};
  HttpResponse r = error_response(401, key ? "board_key_invalid" : "board_key_required",
                                  key ? "this board key is not valid (it may have been rotated); ask the admin for the new link"
                                      : "open the board from the device, log in on the main page, or use the board link with its key");
  if (req.path == "/board") {
    r.content_type = "text/html; charset=utf-8";
    r.body = "<!DOCTYPE html><meta charset=utf-8><title>tracklight board</title><p>" +
             std::string(key ? "This board link is no longer valid (the key was rotated). Ask the admin for the new link."
                             : "This board needs its link with the key. <a href=\"/\">Log in</a> or ask the admin for the board link.");
  }
  return r;
}

void add_security_headers(const HttpRequest& req, HttpResponse& r) {
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                         "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                         "frame-ancestors 'none'");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  // The board feeds and /metrics are fetched with the board key in the URL: no cache may keep
  // them either.
  if (req.path.rfind("/api/", 0) == 0 || req.path == "/healthz" || req.path == "/cc.xml" || req.path == "/board" ||
      req.path == "/metrics")
    r.headers.emplace_back("Cache-Control", "no-store");
}

// With HTTPS on, plain HTTP from another machine is sent there (the same name, the HTTPS port):
// a password or session must not cross the network in the clear. /healthz (monitoring) and
// loopback (the kiosk browser on the device) stay on plain HTTP.
HttpResponse https_redirect(const AgentState& s, const HttpRequest& req) {
  const std::string& host = *req.header("Host");
  const size_t close = host.find(']');
  const std::string name = host[0] == '[' ? (close == std::string::npos ? "" : host.substr(0, close + 1))
                                          : host.substr(0, host.find(':'));
  if (name.empty()) return refusal(400, "bad_host", "the Host header names no host");
  const std::string port = s.opts.https_port == 443 ? "" : ":" + std::to_string(s.opts.https_port);
  // Only an origin-form target ("/path?query") is kept: an absolute-form one ("http://x/...")
  // would make the Location a URL inside a URL.
  const std::string& t = req.target;
  const std::string rest = !t.empty() && t[0] == '/' ? t : !req.path.empty() && req.path[0] == '/' ? req.path : "/";
  HttpResponse r = error_response(308, "use_https", "this page is served over HTTPS");
  r.headers.emplace_back("Location", "https://" + name + port + rest);
  return r;
}

HttpResponse dispatch(AgentState& s, const HttpRequest& req) {
  if (req.header_count("Host") != 1) return refusal(400, "bad_host", "exactly one Host header is required");
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (!host_allowed(s, *req.header("Host")))
      return refusal(421, "host_not_allowed",
                            "this device does not answer to that name; use its IP address or an allowed host name");
  }
  if (s.opts.https_port > 0 && !req.secure && !is_loopback(req.remote_addr) && req.path != "/healthz")
    return https_redirect(s, req);
  if (req.header_block_bytes() > 8 * 1024) return error_response(431, "headers_too_large", "request headers exceed 8 KiB");
  const std::string method = req.method == "HEAD" ? "GET" : req.method;
  std::string allow;
  for (const Route* r = routes_begin(); r != routes_end(); ++r) {
    std::string id;
    if (!path_matches(r->path, req.path, id)) continue;
    if (method != r->method) {
      allow += (allow.empty() ? "" : ", ") + std::string(r->method);
      continue;
    }
    if (is_write(method)) {
      HttpResponse refused = check_write_origin(req);
      if (refused.status) return refused;
    }
    HttpResponse refused = r->access == Access::Admin   ? check_admin(s, req)
                           : r->access == Access::Board ? check_board(s, req)
                                                        : HttpResponse{0, "", "", {}, ""};
    if (refused.status) return refused;
    return r->handler(s, req, id);
  }
  if (!allow.empty()) {
    HttpResponse r = error_response(405, "method_not_allowed", req.method + " is not allowed here; use " + allow);
    r.headers.emplace_back("Allow", allow);
    return r;
  }
  if (method != "GET" || req.path.rfind("/api/", 0) == 0) {
    if (req.path.rfind("/api/", 0) == 0 || find_asset(req.path == "/" ? "/index.html" : req.path) == nullptr)
      return error_response(404, "not_found", "no such resource: " + req.path);
    HttpResponse r = error_response(405, "method_not_allowed", req.method + " is not allowed here; use GET");
    r.headers.emplace_back("Allow", "GET");
    return r;
  }
  return serve_asset(req);
}

}  // namespace

const Route* routes_begin() { return kRoutes; }
const Route* routes_end() { return kRoutes + sizeof kRoutes / sizeof kRoutes[0]; }

HttpResponse route_request(AgentState& s, const HttpRequest& req) {
  HttpResponse r = dispatch(s, req);
  add_security_headers(req, r);
  s.http_counts.count(route_class_of(req.path), r.status);
  return r;
}

}  // namespace tracklight::firmware
