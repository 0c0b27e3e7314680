// The fixture the tests against the fake trackers share: the product's mbedTLS client on the
// real clock, and connections and scenarios for fake Jira Cloud and Azure DevOps Server.
#pragma once
#include <gtest/gtest.h>

#include "firmware/checks/tester.hpp"
#include "platform/crypto.hpp"
#include "tests/integration/fake_tracker.hpp"
#include "tests/support/fakes.hpp"

namespace tracklight::test {

inline const char* kEmail = "mia@example.com";
inline const char* kToken = "CANARY-JIRA-TOKEN-31f0";
inline const char* kPat = "CANARY-ADO-PAT-77c1";

struct TrackerTest : ::testing::Test {
  TempDir tmp;
  platform::PosixClock clock;
  platform::MbedtlsConnector https{clock};

  void SetUp() override { ASSERT_FALSE(pki_dir().empty()) << "tools/gen_test_certs.sh failed"; }

  firmware::Report test(const firmware::Connection& c, int64_t timeout_ms = 15000) {
    firmware::TrackerEnv env{clock, https, timeout_ms};
    return firmware::run_test(c, env);
  }
  static firmware::Connection jira(int port, const std::string& host = "localhost") {
    firmware::Connection c;
    c.id = "jira";
    c.name = "Jira";
    c.provider = "jira";
    c.server_url = "https://" + host + ":" + std::to_string(port);
    c.auth = "api-key";
    c.username = kEmail;
    c.api_key = kToken;
    c.ca_cert = test_ca_pem();
    return c;
  }
  static firmware::Connection azure(int port) {
    firmware::Connection c;
    c.id = "ado";
    c.name = "ADO";
    c.provider = "azure-devops";
    c.server_url = "https://localhost:" + std::to_string(port) + "/tfs";
    c.auth = "pat";
    c.token = kPat;
    c.ca_cert = test_ca_pem();
    return c;
  }
  static nlohmann::json jira_cloud() {
    return {{"personality", "jira-cloud"},
            {"expected_authorization", platform::basic_auth_value(kEmail, kToken)},
            {"user", {{"email", kEmail}, {"display", "Mia Krystof"}}}};
  }
  static nlohmann::json ado() {
    return {{"personality", "ado"},
            {"collection_path", "/tfs/DefaultCollection"},
            {"expected_authorization", platform::basic_auth_value("", kPat)},
            {"projects", {"Fiber"}}};
  }
  static const firmware::Check* check(const firmware::Report& r, const std::string& id) {
    for (const auto& c : r.checks)
      if (c.id == id) return &c;
    return nullptr;
  }
  static std::string dump(const firmware::Report& r) { return firmware::report_to_json(r).dump(1); }
};

}  // namespace tracklight::test
