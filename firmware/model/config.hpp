// The whole persisted configuration: agent settings plus connections. A value type; the running
// agent publishes it as a snapshot.
#pragma once
#include <string>
#include <utility>
#include <vector>
#include "firmware/model/connection.hpp"

namespace tracklight::firmware {

struct AgentSettings {
  std::string admin_password_hash;         // "pbkdf2-sha256$<iter>$<salt>$<hash>"
  std::vector<std::string> allowed_hosts;  // extra Host names the page may be reached by
  std::string board_key_hash;              // "sha256:<hex>" of the read-only board key; "" = none
  std::vector<std::pair<std::string, std::string>> unknown;
};

struct Config {
  AgentSettings agent;
  std::vector<Connection> connections;
  const Connection* find(const std::string& id) const;
  Connection* find(const std::string& id);
};

}  // namespace tracklight::firmware
