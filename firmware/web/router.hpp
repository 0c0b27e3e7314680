// The route table and the gates every request passes (SPEC section 2, "Security"):
// Host allowlist (421) on every route, header block size (431), method (405), Origin and
// Sec-Fetch-Site on writes (403), JSON content type on writes (415), setup (401
// setup_required), session (401) and CSRF token (403). Then the handler; then the security
// headers on whatever comes back.
#pragma once
#include "firmware/agent_state.hpp"
#include "firmware/web/connection_json.hpp"
#include "firmware/web/http_util.hpp"

namespace tracklight::firmware {

HttpResponse route_request(AgentState& s, const HttpRequest& req);

// Handlers (one file per group). `id` is the path parameter where the route has one.
HttpResponse serve_asset(const HttpRequest& req);
HttpResponse handle_healthz(AgentState& s, const HttpRequest& req, const std::string& id);
HttpResponse handle_setup(AgentState& s, const HttpRequest& req, const std::string& id);
HttpResponse handle_login(AgentState& s, const HttpRequest& req, const std::string& id);
HttpResponse handle_logout(AgentState& s, const HttpRequest& req, const std::string& id);
HttpResponse handle_session(AgentState& s, const HttpRequest& req, const std::string& id);
HttpResponse handle_list_connections(AgentState& s, const HttpRequest& req, const std::string& id);
HttpResponse handle_get_connection(AgentState& s, const HttpRequest& req, const std::string& id);
HttpResponse handle_put_connection(AgentState& s, const HttpRequest& req, const std::string& id);
HttpResponse handle_delete_connection(AgentState& s, const HttpRequest& req, const std::string& id);
HttpResponse handle_test_connection(AgentState& s, const HttpRequest& req, const std::string& id);
HttpResponse handle_status(AgentState& s, const HttpRequest& req, const std::string& id);
HttpResponse handle_board_page(AgentState& s, const HttpRequest& req, const std::string& id);
HttpResponse handle_board(AgentState& s, const HttpRequest& req, const std::string& id);
HttpResponse handle_cctray(AgentState& s, const HttpRequest& req, const std::string& id);
HttpResponse handle_rotate_board_key(AgentState& s, const HttpRequest& req, const std::string& id);
HttpResponse handle_metrics(AgentState& s, const HttpRequest& req, const std::string& id);
std::string board_key_hash(const std::string& key);  // as stored in the config
HttpResponse handle_device_key(AgentState& s, const HttpRequest& req, const std::string& id);
HttpResponse handle_export(AgentState& s, const HttpRequest& req, const std::string& id);
HttpResponse handle_import(AgentState& s, const HttpRequest& req, const std::string& id);
HttpResponse handle_start_signin(AgentState& s, const HttpRequest& req, const std::string& id);
HttpResponse handle_poll_signin(AgentState& s, const HttpRequest& req, const std::string& id);
HttpResponse handle_signin_code(AgentState& s, const HttpRequest& req, const std::string& id);
// A Test or Connect that names a completed sign-in of this session and dialog takes its refresh
// token and account into `in` (status 0), or is refused (409, naming refresh_token). A Connect
// `claim`s it: no other Connect may use it until released (PendingSignins). Caller holds s.mu.
// keep_applied_signin then keeps its access token for the final settings.
HttpResponse apply_signin(AgentState& s, const HttpRequest& req, const std::string& id, const std::string& dialog,
                          ConnectionInput& in, bool claim);
void keep_applied_signin(AgentState& s, const HttpRequest& req, const std::string& id, const std::string& dialog,
                         const Connection& c);
RouteClass route_class_of(const std::string& path);  // how /metrics counts a request to `path`

// Access a route needs.
enum class Access {
  Public,      // static page assets and /healthz
  SetupPhase,  // /api/v1/setup, /api/v1/login, /api/v1/session: no session yet
  Board,       // the kiosk and /metrics (read-only): from loopback, a logged-in session, or ?key=<board key>
  Admin,       // everything else: a logged-in session (plus CSRF token on writes)
};

struct Route {
  const char* method;
  const char* path;  // a trailing "{id}" matches one path segment
  Access access;
  HttpResponse (*handler)(AgentState&, const HttpRequest&, const std::string&);
};

// The whole table, so a test can call every route and prove each is gated.
const Route* routes_begin();
const Route* routes_end();

}  // namespace tracklight::firmware
