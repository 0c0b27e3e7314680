#include "firmware/web/connection_json.hpp"

#include "firmware/model/connection_rules.hpp"
#include "firmware/model/text.hpp"
#include "firmware/model/url.hpp"

#include <ctime>

namespace tracklight::firmware {
namespace {

using nlohmann::json;

JsonFieldError type_error(const std::string& field, const char* want) {
  return {field, std::string("must be ") + want};
}

bool take_int(const json& v, int lo, int hi, int& out) {
  if (!v.is_number_integer()) return false;
  auto n = v.get<long long>();
  if (n < lo || n > hi) return false;
  out = static_cast<int>(n);
  return true;
}

JsonFieldError decode_board(const json& j, BoardSettings& b) {
  if (!j.is_object()) return type_error("board", "an object");
  for (const auto& [key, v] : j.items()) {
    std::string f = "board." + key;
    if (key == "enabled") {
      if (!v.is_boolean()) return type_error(f, "true or false");
      b.enabled = v.get<bool>();
    } else if (key == "interval_s") {
      if (!take_int(v, 15, 86400, b.interval_s)) return type_error(f, "a whole number from 15 to 86400");
    } else if (key == "max_issues") {
      if (!take_int(v, 1, 50, b.max_issues)) return type_error(f, "a whole number from 1 to 50");
    } else if (key == "branch" || key == "jql") {
      if (!v.is_string()) return type_error(f, "a string");
      (key == "branch" ? b.branch : b.jql) = v.get<std::string>();
    } else if (key == "pipelines") {
      if (!v.is_array() || v.size() > kMaxPipelines) return type_error(f, "a list of at most 50 names");
      b.pipelines.clear();
      for (const auto& p : v) {
        if (!p.is_string()) return type_error(f, "a list of strings");
        b.pipelines.push_back(p.get<std::string>());
      }
    } else {
      return {f, "is not a known field"};
    }
  }
  return {};
}

JsonFieldError decode_headers(const json& j, ConnectionInput& out) {
  if (!j.is_array()) return type_error("headers", "a list of {\"name\", \"value\"}");
  if (j.size() > kMaxHeaders) return {"headers", "at most 16 custom headers"};
  for (size_t i = 0; i < j.size(); ++i) {
    std::string f = "headers[" + std::to_string(i) + "]";
    if (!j[i].is_object()) return type_error(f, "an object {\"name\", \"value\"}");
    HeaderEntry h;
    bool has_value = false;
    for (const auto& [key, v] : j[i].items()) {
      if (key != "name" && key != "value") return {f + "." + key, "is not a known field"};
      if (!v.is_string()) return type_error(f + "." + key, "a string");
      (key == "name" ? h.name : h.value) = v.get<std::string>();
      has_value = has_value || key == "value";
    }
    out.conn.headers.push_back(h);
    out.header_value_given.push_back(has_value);
  }
  return {};
}

JsonFieldError decode_field(const std::string& key, const json& v, ConnectionInput& out) {
  Connection& c = out.conn;
  if (key == "id") {
    if (!v.is_string()) return type_error(key, "a string");
    c.id = v.get<std::string>();
    return {};
  }
  // What a sign-in gave: read-only. "" signs the connection out.
  if (key == "signed_in_as" || key == "cloud_id") return {};
  if (key == "refresh_token" && !(v.is_string() && v.get<std::string>().empty()))
    return {key, "comes from signing in (the Sign in button), not from a request; send \"\" to sign out"};
  for (size_t i = 0; i < kStringFieldCount; ++i) {
    if (key != kStringFields[i].name) continue;
    if (!v.is_string()) return type_error(key, "a string");
    c.*kStringFields[i].member = v.get<std::string>();
    return {};
  }
  for (size_t i = 0; i < kSecretFieldCount; ++i) {
    if (key != kSecretFields[i].name) continue;
    if (!v.is_string()) return type_error(key, "a string");
    c.*kSecretFields[i].member = v.get<std::string>();
    out.secrets_given.insert(key);
    return {};
  }
  for (size_t i = 0; i < kIntFieldCount; ++i) {
    const auto& f = kIntFields[i];
    if (key != f.name) continue;
    if (!take_int(v, f.min, f.max, c.*f.member))
      return type_error(key, ("a whole number from " + std::to_string(f.min) + " to " + std::to_string(f.max)).c_str());
    return {};
  }
  for (size_t i = 0; i < kBoolFieldCount; ++i) {
    if (key != kBoolFields[i].name) continue;
    if (!v.is_boolean()) return type_error(key, "true or false");
    c.*kBoolFields[i].member = v.get<bool>();
    return {};
  }
  if (key == "headers") return decode_headers(v, out);
  if (key == "board") return decode_board(v, c.board);
  // Read-only fields a client may echo back from a GET are accepted and ignored.
  if (key == "secrets" || key == "status" || key == "last_check") return {};
  return {key, "is not a known field"};
}

int depth_of(const std::string& body) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char ch : body) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (ch == '\\') escaped = true;
      else if (ch == '"') in_string = false;
      continue;
    }
    if (ch == '"') in_string = true;
    else if (ch == '{' || ch == '[') max_depth = std::max(max_depth, ++depth);
    else if (ch == '}' || ch == ']') --depth;
  }
  return max_depth;
}

}  // namespace

std::string parse_json_body(const std::string& body, nlohmann::json& out) {
  // nlohmann's parser is iterative, but a deep document still costs memory: refuse it early.
  if (depth_of(body) > 32) return "the JSON nests deeper than 32 levels";
  out = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (out.is_discarded()) return "the body is not valid JSON";
  if (!out.is_object()) return "the body must be a JSON object";
  return "";
}

JsonFieldError decode_connection(const json& j, ConnectionInput& out) {
  out = ConnectionInput{};
  for (const auto& [key, v] : j.items()) {
    JsonFieldError e = decode_field(key, v, out);
    if (!e.field.empty()) return e;
  }
  return {};
}

namespace {

const HeaderEntry* stored_header(const Connection& stored, const std::string& name) {
  for (const auto& h : stored.headers)
    if (iequals(h.name, name)) return &h;
  return nullptr;
}

}  // namespace

std::vector<std::string> secrets_not_carried(const ConnectionInput& in, const Connection* stored) {
  std::vector<std::string> names;
  if (!stored) return names;
  const bool server_moved =
      !in.conn.server_url.empty() && !server_secrets_may_follow(in.conn, *stored);
  const bool proxy_moved = !in.conn.proxy_url.empty() && !same_origin(in.conn.proxy_url, stored->proxy_url);
  for (size_t i = 0; i < kSecretFieldCount; ++i) {
    const auto& f = kSecretFields[i];
    // A sign-in also belongs to the app and callback it was made with.
    const bool app_moved = f.member == &Connection::refresh_token &&
                           (in.conn.client_id != stored->client_id || in.conn.redirect_uri != stored->redirect_uri ||
                            in.conn.tenant_id != stored->tenant_id);
    const bool moved = f.member == &Connection::proxy_password ? proxy_moved : server_moved || app_moved;
    if (f.member == &Connection::refresh_token && !keeps_refresh_token(in.conn)) continue;  // dropped, not carried
    if (moved && !in.secrets_given.count(f.name) && !(stored->*f.member).empty()) names.push_back(f.name);
  }
  for (size_t i = 0; i < in.conn.headers.size() && server_moved; ++i) {
    const HeaderEntry* old = stored_header(*stored, in.conn.headers[i].name);
    if (!in.header_value_given[i] && old && !old->value.empty()) names.push_back("headers[" + std::to_string(i) + "].value");
  }
  return names;
}

JsonFieldError merge_stored_secrets(ConnectionInput& in, const Connection* stored) {
  for (size_t i = 0; i < kSecretFieldCount; ++i) {
    const auto& f = kSecretFields[i];
    if (!in.secrets_given.count(f.name) && stored) in.conn.*f.member = stored->*f.member;
  }
  // The account goes with the refresh token it was signed in with, and both with their method.
  if (!in.secrets_given.count("refresh_token") && stored) in.conn.signed_in_as = stored->signed_in_as, in.conn.cloud_id = stored->cloud_id;
  if (!keeps_refresh_token(in.conn)) in.conn.refresh_token.clear(), in.conn.signed_in_as.clear(), in.conn.cloud_id.clear();
  if (!in.secrets_given.count("proxy_password") && in.conn.proxy_url.empty()) in.conn.proxy_password.clear();
  for (size_t i = 0; i < in.conn.headers.size(); ++i) {
    if (in.header_value_given[i]) continue;
    const HeaderEntry* old = stored ? stored_header(*stored, in.conn.headers[i].name) : nullptr;
    if (!old) return {"headers[" + std::to_string(i) + "].value", "enter a value for this new header"};
    in.conn.headers[i].value = old->value;
  }
  return {};
}

std::string iso_time(int64_t unix_s) {
  if (unix_s <= 0) return "";
  std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json encode_connection(const Connection& c) {
  json j = json::object();
  j["id"] = c.id;
  for (size_t i = 0; i < kStringFieldCount; ++i) j[kStringFields[i].name] = c.*kStringFields[i].member;
  for (size_t i = 0; i < kIntFieldCount; ++i) j[kIntFields[i].name] = c.*kIntFields[i].member;
  for (size_t i = 0; i < kBoolFieldCount; ++i) j[kBoolFields[i].name] = c.*kBoolFields[i].member;
  json headers = json::array();
  for (const auto& h : c.headers) headers.push_back({{"name", h.name}});
  j["headers"] = headers;
  j["board"] = {{"enabled", c.board.enabled}, {"interval_s", c.board.interval_s},
                {"pipelines", c.board.pipelines}, {"branch", c.board.branch},
                {"jql", c.board.jql}, {"max_issues", c.board.max_issues}};
  json secrets = json::object();
  for (size_t i = 0; i < kSecretFieldCount; ++i) secrets[kSecretFields[i].name] = !(c.*kSecretFields[i].member).empty();
  j["secrets"] = secrets;
  j["status"] = effective_status(c);
  j["last_check"] = nullptr;
  return j;
}

}  // namespace tracklight::firmware
