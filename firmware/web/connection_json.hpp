// The connection object of the JSON API (SPEC section 2). Decoding is strict: an unknown field,
// a wrong type or an out-of-range number is an ApiFieldError naming the field. Encoding never
// includes a secret: "secrets" tells which ones are stored.
#pragma once
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include "firmware/model/connection.hpp"

namespace tracklight::firmware {

struct ConnectionInput {
  Connection conn;
  std::set<std::string> secrets_given;   // present in the request ("" = clear)
  std::vector<bool> header_value_given;  // per headers[i]
};

struct JsonFieldError {
  std::string field;
  std::string message;
};

// Returns "" on success. `j` must be an object.
JsonFieldError decode_connection(const nlohmann::json& j, ConnectionInput& out);
// A stored secret is bound to where it was entered for (SPEC section 2): the omitted secrets
// that a request would carry to another scheme, host or port of server_url or past a new CA
// certificate (header values included) or, for proxy_password, of proxy_url. Non-empty: refuse the request, naming them.
std::vector<std::string> secrets_not_carried(const ConnectionInput& in, const Connection* stored);
// Omitted secrets (and omitted header values) take the stored connection's values; a proxy
// password is dropped when the proxy is removed. Call after secrets_not_carried found none.
// Returns a field error when a header without a value has no stored value to keep.
JsonFieldError merge_stored_secrets(ConnectionInput& in, const Connection* stored);
nlohmann::json encode_connection(const Connection& c);
std::string iso_time(int64_t unix_s);  // "2026-11-24T21:00:00Z"; "" for 0

// Parses a request body: an object, at most 32 levels deep. Returns "" or why not.
std::string parse_json_body(const std::string& body, nlohmann::json& out);

}  // namespace tracklight::firmware
