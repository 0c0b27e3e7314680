#include "firmware/model/connection.hpp"

#include "platform/crypto.hpp"

namespace tracklight::firmware {

const StringField kStringFields[] = {
    {"name", &Connection::name, 64},
    {"provider", &Connection::provider, 32},
    {"server_url", &Connection::server_url, 2048},
    {"auth", &Connection::auth, 32},
    {"username", &Connection::username, 256},
    {"token_expires", &Connection::token_expires, 10},
    {"proxy_url", &Connection::proxy_url, 2048},
    {"proxy_username", &Connection::proxy_username, 256},
    {"ca_cert", &Connection::ca_cert, 32 * 1024},
    {"collection", &Connection::collection, 128},
    {"project", &Connection::project, 128},
    {"tenant_id", &Connection::tenant_id, 64},
    {"client_id", &Connection::client_id, 64},
    {"authority_host", &Connection::authority_host, 256},
    {"signed_in_as", &Connection::signed_in_as, 256},
    {"redirect_uri", &Connection::redirect_uri, 2048},
    {"cloud_id", &Connection::cloud_id, 64},
};
const size_t kStringFieldCount = sizeof kStringFields / sizeof kStringFields[0];

const SecretField kSecretFields[] = {
    {"password", &Connection::password},
    {"api_key", &Connection::api_key},
    {"token", &Connection::token},
    {"client_secret", &Connection::client_secret},
    {"proxy_password", &Connection::proxy_password},
    {"refresh_token", &Connection::refresh_token},
};
const size_t kSecretFieldCount = sizeof kSecretFields / sizeof kSecretFields[0];

const IntField kIntFields[] = {
    {"check_interval_s", &Connection::check_interval_s, 10, 86400},
};
const size_t kIntFieldCount = sizeof kIntFields / sizeof kIntFields[0];

const BoolField kBoolFields[] = {
    {"use_for_tfvc", &Connection::use_for_tfvc},
    {"active", &Connection::active},
};
const size_t kBoolFieldCount = sizeof kBoolFields / sizeof kBoolFields[0];

bool valid_connection_id(const std::string& id) {
  if (id.empty() || id.size() > 32) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    char c = id[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && !(i > 0 && c == '-')) return false;
  }
  return true;
}

bool from_signin(const std::string& name) {
  return name == "refresh_token" || name == "signed_in_as" || name == "cloud_id";
}

bool is_secret_field(const std::string& name) {
  for (size_t i = 0; i < kSecretFieldCount; ++i)
    if (name == kSecretFields[i].name) return true;
  return false;
}

std::string effective_status(const Connection& c) {
  return c.active ? c.saved_status : "inactive";
}

std::string settings_fingerprint(const Connection& c, bool with_board) {
  std::string f;
  auto add = [&](const std::string& v) { f += std::to_string(v.size()) + ":" + v; };
  for (size_t i = 0; i < kStringFieldCount; ++i) add(c.*kStringFields[i].member);
  // Not the refresh token: it rotates with every renewal, which changes nothing the checks see.
  for (size_t i = 0; i < kSecretFieldCount; ++i)
    if (kSecretFields[i].member != &Connection::refresh_token) add(c.*kSecretFields[i].member);
  for (const auto& h : c.headers) add(h.name), add(h.value);
  add(std::to_string(c.check_interval_s) + (c.active ? "A" : "-") + (c.use_for_tfvc ? "T" : "-") +
      (c.imported ? "I" : "-") + c.saved_status);
  if (with_board) {
    const BoardSettings& b = c.board;
    add(std::to_string(b.interval_s) + "/" + std::to_string(b.max_issues) + (b.enabled ? "E" : "-"));
    add(b.branch);
    add(b.jql);
    for (const auto& p : b.pipelines) add(p);
  }
  // Kept by the monitor and the poller for the life of the agent: a digest, not the secrets.
  return platform::sha256(f);
}

}  // namespace tracklight::firmware
