#include "firmware/signin/token_answer.hpp"

#include <cctype>
#include <cstring>

#include "firmware/model/text.hpp"
#include "firmware/model/url.hpp"
#include "firmware/tracker/endpoint.hpp"
#include "firmware/tracker/json_read.hpp"

namespace tracklight::firmware {
namespace {

// Access tokens live an hour (Entra, Atlassian) to a day (IMDS); a longer promise is capped, so
// a token a hostile endpoint gave is not kept for months.
constexpr int64_t kMaxLifetimeS = 24 * 3600;

// A count of seconds as a JSON number or, from IMDS, a string of digits; 0 when absent or absurd.
int64_t seconds(const JsonNode& j, const char* key) {
  const JsonNode v = j.member(key);
  int64_t n = 0;
  if (!v.is_string()) {
    n = v.as_int64().value_or(0);
  } else {
    const std::string s = v.as_string();
    if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) return 0;
    n = std::stoll(s);
  }
  return n <= 0 ? 0 : n > kMaxLifetimeS ? kMaxLifetimeS : n;
}

// RFC 6750's b64token: what may follow "Bearer " in a header line.
bool bearer_token(const std::string& t) {
  size_t i = 0;
  while (i < t.size() && (std::isalnum(static_cast<unsigned char>(t[i])) || std::strchr("-._~+/", t[i]))) ++i;
  const size_t body = i;
  while (i < t.size() && t[i] == '=') ++i;
  return body > 0 && i == t.size();
}

int64_t aadsts_number(const std::string& text) {
  const size_t at = text.find("AADSTS");
  if (at == std::string::npos) return 0;
  int64_t n = 0;
  for (size_t i = at + 6; i < text.size() && i < at + 15 && text[i] >= '0' && text[i] <= '9'; ++i) n = n * 10 + (text[i] - '0');
  return n;
}

}  // namespace

TokenAnswer read_token_answer(const platform::HttpsResponse& r) {
  TokenAnswer a;
  JsonDoc doc(r);
  const JsonNode j = doc.root().as_object();
  if (!j.present()) {
    a.unreadable = doc.parsed() ? "the answer is not a JSON object" : "the answer is not JSON (HTTP " + std::to_string(r.status) + ")";
    return a;
  }
  const JsonNode error = j.member("error");
  if (error.is_object()) {  // Azure App Service and some gateways nest it: {"error": {"code", "message"}}
    a.error = error.string("code");
    a.description = clip_utf8(error.string("message"), 400);
  } else {
    a.error = error.as_string();
    a.description = clip_utf8(j.string("error_description"), 400);
  }
  const JsonNode codes = j.array("error_codes");
  if (codes.size() > 0)
    if (const auto n = codes.item(0).as_int64()) a.error_code = *n;
  if (!a.error_code) a.error_code = aadsts_number(a.description);
  if (a.error.empty() && r.status == 200) {
    a.access_token = j.string("access_token");
    a.refresh_token = j.string("refresh_token");
    a.id_token = j.string("id_token");
    a.expires_in_s = seconds(j, "expires_in");
  }
  if (doc.failed()) a.unreadable = doc.first_error();
  else if (a.error.empty() && a.access_token.empty())
    a.unreadable = r.status == 200 ? "the answer has no access_token" : "HTTP " + std::to_string(r.status) + " without an error code";
  if (a.access_token.size() > 16384 || a.id_token.size() > 16384) a.unreadable = "the token is longer than 16 KiB";
  // It is kept in the flat file, sealed, as a secret of at most 4096 printable characters.
  else if (a.refresh_token.size() > 4096 || has_control(a.refresh_token))
    a.unreadable = "the refresh token is longer than 4096 characters or holds control characters";
  else if (!a.access_token.empty() && !bearer_token(a.access_token)) a.unreadable = "the access token holds characters a token cannot";
  a.error = clip_utf8(a.error, 100);
  return a;
}

TokenReply ask_token_service(const Connection& c, TrackerEnv& env, int64_t deadline_ms, const std::string& url,
                             const std::string& body, const char* content_type, const std::string& what,
                             const platform::HeaderList& headers) {
  TokenReply r;
  std::string path;
  platform::HttpsTarget t = service_target(c, url, &path);
  t.deadline_ms = deadline_ms;
  t.cancel = env.cancel;
  t.max_response_bytes = 64 * 1024;  // a token answer is a few kilobytes
  const std::string where = what + " at " + t.host;
  platform::HeaderList sent = {{"Accept", "application/json"}};
  sent.insert(sent.end(), headers.begin(), headers.end());
  auto conn = env.signin_connector().open(t);
  auto res = conn ? (*conn)->post(path, sent, body, content_type) : Result<platform::HttpsResponse>(conn.error());
  if (!res) {
    r.failure = TokenFetch::failed("interrupted", "Could not reach " + where + ": " + res.error().detail,
                                   "Check the network route to it (firewall, proxy setting, DNS); the tracker was not asked. This is retried.");
    return r;
  }
  r.reached = true;
  r.response = std::move(*res);
  r.answer = read_token_answer(r.response);
  return r;
}

std::string form_body(std::initializer_list<std::pair<const char*, std::string>> fields) {
  std::string out;
  for (const auto& f : fields) {
    if (!out.empty()) out += '&';
    out += f.first;
    out += '=';
    out += path_segment(f.second);
  }
  return out;
}

}  // namespace tracklight::firmware
