#include "firmware/board/board_fetch.hpp"

#include "firmware/signin/signin.hpp"

#include <algorithm>
#include <cstdlib>
#include <exception>

#include "firmware/model/connection_rules.hpp"
#include "firmware/model/text.hpp"
#include "platform/memory.hpp"

namespace tracklight::firmware {
namespace {

constexpr int64_t kMaxWaitS = 3600;

// Seconds in a Retry-After / X-RateLimit-Delay value ("30", "0.5"); -1 when it is not a number
// (the HTTP-date form of Retry-After is not used by either tracker).
int64_t seconds_value(const std::string& v) {
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (end == v.c_str() || d < 0 || d != d) return -1;
  return d > kMaxWaitS ? kMaxWaitS : static_cast<int64_t>(d + 0.999);
}

void note_rate_headers(const platform::HttpsResponse& r, BoardFetch& out) {
  for (const char* name : {"Retry-After", "X-RateLimit-Delay"}) {
    const std::string* v = r.header(name);
    if (v) out.wait_s = std::max(out.wait_s, seconds_value(*v));
  }
  const std::string* near = r.header("X-RateLimit-NearLimit");
  if (near && lower(*near) == "true") out.near_limit = true;
  const std::string* remaining = r.header("X-RateLimit-Remaining");
  const std::string* limit = r.header("X-RateLimit-Limit");
  if (remaining && limit) {
    const double rem = std::atof(remaining->c_str()), lim = std::atof(limit->c_str());
    if (lim > 0 && rem * 5 < lim) out.near_limit = true;
  }
}

}  // namespace

std::string query_value(const std::string& text) { return path_segment(text); }

bool BoardClient::get_json(const std::string& path, platform::HttpsResponse& answer) {
  out.requests++;
  auto res = conn.get(path, headers);
  if (!res) {
    out.error = res.error().detail;
    return false;
  }
  const platform::HttpsResponse& r = *res;
  note_rate_headers(r, out);
  const std::string what = request_name(path);
  if (r.status != 200) out.http_status = r.status;
  if (r.status == 401 || r.status == 403 || r.status == 203) {
    out.needs_settings = true;
    out.error = what + " was refused (HTTP " + std::to_string(r.status) +
                "): the credentials no longer work; fix them in the connection's settings";
    return false;
  }
  if (r.status == 429) {
    out.wait_s = std::max<int64_t>(out.wait_s, 60);  // a 429 without Retry-After still means wait
    out.error = "the server is rate-limiting requests; waiting " + std::to_string(out.wait_s) + " s";
    return false;
  }
  if (r.status != 200) {
    out.error = what + " answered HTTP " + std::to_string(r.status);
    return false;
  }
  if (!is_json(r)) {
    // A sign-in page instead of JSON is how Azure DevOps answers an expired PAT.
    out.needs_settings = true;
    out.error = what + " did not answer with JSON (a sign-in page?): check the credentials";
    return false;
  }
  answer = std::move(*res);
  return true;
}

bool BoardClient::decoded(const std::string& path, const JsonDoc& doc) {
  if (!doc.parsed()) out.error = request_name(path) + " answered with damaged JSON";
  else if (doc.failed()) out.error = unexpected_answer(path, doc);
  else return true;
  return false;
}

namespace {

// `refused`: in: the Authorization value the tracker refused in a first try; out: the one this
// try sent, when it was a kept token the tracker refused with 401.
BoardFetch fetch_once(const Connection& c, TrackerEnv& env, std::string& jira_flavour, int64_t deadline,
                      std::string& refused) {
  BoardFetch out;
  std::vector<FieldError> bad = validate_connection(c);
  if (!bad.empty()) {
    out.error = "the settings are not valid (" + bad.front().field + ": " + bad.front().message + ")";
    out.needs_settings = true;  // nothing to retry until they change
    return out;
  }
  SigninResult signin;
  if (needs_signin(c)) {
    signin = authorize(c, env, deadline, refused);
    if (!signin.ok) {
      out.error = "sign-in failed: " + signin.message;
      out.needs_settings = signin.status != "interrupted";
      return out;
    }
  }
  TrackerEndpoint ep = tracker_endpoint(c, signin.authorization, signin.api_url);
  ep.target.deadline_ms = deadline;
  ep.target.cancel = env.cancel;
  {
    auto conn = env.https.open(ep.target);
    if (!conn) {
      const std::string& detail = conn.error().detail;  // usually names host:port already
      out.error = "cannot reach " + (detail.rfind(ep.target.host, 0) == 0 ? detail : ep.target.host + ": " + detail);
    } else {
      BoardClient client{**conn, ep.headers, out};
      if (c.provider == "jira") fetch_jira_board(c, client, ep.base_path, jira_flavour);
      else fetch_azure_board(c, client, ep.base_path);
    }
  }
  platform::return_idle_memory();  // the CA chain and the answers are gone; give the pages back
  out.ok = out.error.empty();
  if (!out.ok) out.data = nullptr;
  refused = out.http_status == 401 && signin.from_cache ? signin.authorization : "";
  return out;
}

}  // namespace

// A fault inside the agent (out of memory, a bug) costs this fetch, not the poller thread.
BoardFetch fetch_board(const Connection& c, TrackerEnv& env, std::string& jira_flavour) {
  std::string why;
  try {
    const int64_t deadline = env.clock.monotonic_ms() + env.timeout_ms;
    std::string refused;
    BoardFetch out = fetch_once(c, env, jira_flavour, deadline, refused);
    if (!refused.empty()) out = fetch_once(c, env, jira_flavour, deadline, refused);
    return out;
  } catch (const std::exception& e) {
    why = e.what();
  } catch (...) {
    why = "an unknown error";
  }
  BoardFetch out;
  out.error = "the fetch stopped inside the agent: " + why;
  return out;
}

}  // namespace tracklight::firmware
