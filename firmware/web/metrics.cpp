// GET /metrics: the agent and its connections in the Prometheus text format, under the board's
// access rule (router.cpp): loopback, a session, or the board key.
//
// Labels are the connection's id and provider only: both come from fixed alphabets, so a series
// stays the same when the person renames a connection. Names, server URLs, JQL, issue text,
// error messages and secrets never appear; what went wrong is a `kind` from a fixed list
// (firmware/metrics/upstream_counts.hpp), and the reasons stay on the page and in the log.
// The values are those /api/v1/status and /api/v1/board show, read the same way.
#include <memory>

#include "firmware/metrics/prometheus_text.hpp"
#include "firmware/model/connection_rules.hpp"
#include "firmware/web/assets.hpp"
#include "firmware/web/router.hpp"

namespace tracklight::firmware {
namespace {

// The statuses of monitor.hpp's table: a state set has a series for each, 1 for the current one.
const char* const kStatuses[] = {"authorized", "interrupted", "not-authorized", "not-verified", "inactive"};

struct ConnectionView {
  std::string id, provider;
  ConnectionHealth health;
  int64_t token_expires_at_s = 0;  // 0: no expiry date entered
  bool board = false;              // the board is polled
  BoardSource board_source;
  std::shared_ptr<const UpstreamCounts> upstream;  // nullptr: nothing sent yet
};

std::vector<ConnectionView> connection_views(AgentState& s) {
  std::vector<ConnectionView> out;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    for (const auto& c : s.config.connections) {
      ConnectionView v;
      v.id = c.id;
      v.provider = c.provider;
      v.health.status = effective_status(c);  // as /api/v1/status: the monitor's when it watches it
      if (s.monitor) s.monitor->health(c.id, v.health);
      // The Jira check calls a token expired the day after its date: it is good through that day.
      if (!c.token_expires.empty() && valid_date(c.token_expires))
        v.token_expires_at_s = (date_days(c.token_expires) + 1) * 86400;
      v.upstream = s.upstream.find(c.id);
      out.push_back(std::move(v));
    }
  }
  const std::vector<BoardSource> boards = s.board ? s.board->sources() : std::vector<BoardSource>{};
  for (auto& v : out)
    for (const auto& b : boards)
      if (b.id == v.id) {
        v.board = true;
        v.board_source = b;
      }
  return out;
}

std::string num(int64_t v) { return std::to_string(v); }

void write_status(MetricsText& m, const std::vector<ConnectionView>& conns, int64_t now_s) {
  m.family("tracklight_connection_status", "gauge",
           "The connection's status as a state set: 1 for the current status, 0 for the others.");
  for (const auto& v : conns)
    for (const char* st : kStatuses)
      m.sample("tracklight_connection_status", {{"id", v.id}, {"provider", v.provider}, {"status", st}},
               v.health.status == st ? "1" : "0");
  m.family("tracklight_connection_last_check_age_seconds", "gauge",
           "Seconds since the connection was last checked; absent until its first check.");
  for (const auto& v : conns)
    if (v.health.last_check_s)
      m.sample("tracklight_connection_last_check_age_seconds", {{"id", v.id}, {"provider", v.provider}},
               num(now_s - v.health.last_check_s));
  m.family("tracklight_connection_last_check_ok", "gauge",
           "1 when the connection's last check passed (warnings allowed), 0 when it failed; absent until its first check.");
  for (const auto& v : conns)
    if (v.health.last_check_s)
      m.sample("tracklight_connection_last_check_ok", {{"id", v.id}, {"provider", v.provider}},
               v.health.last_ok ? "1" : "0");
  m.family("tracklight_connection_token_expiry_seconds", "gauge",
           "Seconds until the connection's token expires (the end of its Token expires date, UTC), negative once "
           "expired; only for connections with that date entered.");
  for (const auto& v : conns)
    if (v.token_expires_at_s)
      m.sample("tracklight_connection_token_expiry_seconds", {{"id", v.id}, {"provider", v.provider}},
               num(v.token_expires_at_s - now_s));
}

void write_board(MetricsText& m, const std::vector<ConnectionView>& conns, int64_t now_s) {
  m.family("tracklight_board_last_fetch_age_seconds", "gauge",
           "Seconds since the connection's board data was last fetched successfully; absent before the first good fetch.");
  for (const auto& v : conns)
    if (v.board && v.board_source.fetched_at_s)
      m.sample("tracklight_board_last_fetch_age_seconds", {{"id", v.id}, {"provider", v.provider}},
               num(now_s - v.board_source.fetched_at_s));
  m.family("tracklight_board_stale", "gauge",
           "1 when the board shows old data for the connection (a fetch failed, or none is fresh yet), else 0; only "
           "for connections whose board is on.");
  for (const auto& v : conns)
    if (v.board)
      m.sample("tracklight_board_stale", {{"id", v.id}, {"provider", v.provider}}, v.board_source.stale ? "1" : "0");
}

void write_upstream(MetricsText& m, const std::vector<ConnectionView>& conns) {
  const UpstreamSource sources[] = {UpstreamSource::Check, UpstreamSource::Board};
  const UpstreamCounts none;
  m.family("tracklight_upstream_requests_total", "counter",
           "HTTPS requests to the tracker by the monitor's checks (source=check) and the board's polls (source=board), "
           "including connection attempts that failed before a request could be sent.");
  for (const auto& v : conns)
    for (UpstreamSource src : sources)
      m.sample("tracklight_upstream_requests_total",
               {{"id", v.id}, {"provider", v.provider}, {"source", upstream_source_name(src)}},
               std::to_string((v.upstream ? *v.upstream : none).requests_of(src)));
  m.family("tracklight_upstream_failures_total", "counter",
           "HTTPS requests to the tracker that failed, by kind: dns, connect, tls, timeout, bad_answer, redirect, "
           "refused (401/403/203), rate_limited (429), http_4xx, http_5xx.");
  for (const auto& v : conns)
    for (UpstreamSource src : sources)
      for (size_t k = 0; k < kUpstreamFailures; ++k) {
        const auto kind = static_cast<UpstreamFailure>(k);
        m.sample("tracklight_upstream_failures_total",
                 {{"id", v.id}, {"provider", v.provider}, {"source", upstream_source_name(src)},
                  {"kind", upstream_failure_name(kind)}},
                 std::to_string((v.upstream ? *v.upstream : none).failures_of(src, kind)));
      }
}

void write_agent(MetricsText& m, const AgentState& s) {
  m.family("tracklight_http_requests_total", "counter",
           "HTTP requests the agent answered, by route class (page, api, board, assets, healthz, metrics, other) and "
           "status code; requests the server refused before routing (framing, size, time limits) are not counted.");
  for (const auto& c : s.http_counts.samples())
    m.sample("tracklight_http_requests_total", {{"route", route_class_name(c.route)}, {"code", num(c.status)}},
             std::to_string(c.count));
  m.family("tracklight_build_info", "gauge", "The agent's version; always 1.");
  m.sample("tracklight_build_info", {{"version", TRACKLIGHT_VERSION}}, "1");
}

}  // namespace

RouteClass route_class_of(const std::string& path) {
  if (path == "/healthz") return RouteClass::Healthz;
  if (path == "/metrics") return RouteClass::Metrics;
  if (path == "/board" || path == "/api/v1/board" || path == "/cc.xml") return RouteClass::Board;
  if (path.rfind("/api/", 0) == 0) return RouteClass::Api;
  if (path == "/" || path == "/index.html") return RouteClass::Page;
  if (find_asset(path)) return RouteClass::Assets;
  return RouteClass::Other;
}

HttpResponse handle_metrics(AgentState& s, const HttpRequest&, const std::string&) {
  const std::vector<ConnectionView> conns = connection_views(s);
  const int64_t now_s = s.clock.wall_time_s();
  MetricsText m;
  write_status(m, conns, now_s);
  write_board(m, conns, now_s);
  write_upstream(m, conns);
  write_agent(m, s);
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = std::move(m.text());
  return r;
}

}  // namespace tracklight::firmware
