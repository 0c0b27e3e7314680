// A fleet import on running agents: device A exports a connection with its secret sealed for
// device B, B imports it through its API, and B's monitor checks it by itself against the fake
// Jira (real TLS), so nobody has to press Connect on every board.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/integration/tracker_fixture.hpp"

namespace tracklight::test {
namespace {

using nlohmann::json;

struct ImportAgentTest : TrackerTest {};

TEST_F(ImportAgentTest, AnImportedConnectionIsCheckedByTheMonitorWithoutConnect) {
  FakeTracker fake(tmp.path(), jira_cloud(), "good");
  ASSERT_GT(fake.port(), 0);
  AgentProcess a(tmp.path() + "/a"), b(tmp.path() + "/b");
  ASSERT_TRUE(a.start()) << a.log();
  ASSERT_TRUE(b.start()) << b.log();
  ApiClient ca(a.port()), cb(b.port());
  ASSERT_TRUE(ca.setup(setup_code_of(tmp.path() + "/a"), "correct horse battery"));
  ASSERT_TRUE(cb.setup(setup_code_of(tmp.path() + "/b"), "correct horse battery"));

  const json jira = {{"name", "Team Jira"}, {"provider", "jira"},
                     {"server_url", "https://localhost:" + std::to_string(fake.port())}, {"auth", "api-key"},
                     {"username", kEmail}, {"api_key", kToken}, {"ca_cert", test_ca_pem()}, {"check_interval_s", 3600}};
  auto put = ca.send("PUT", "/api/v1/connections/jira", jira.dump());
  ASSERT_EQ(put->status, 200) << put->body;

  const std::string key = json::parse(cb.send("GET", "/api/v1/device-key")->body)["public_key"];
  auto exported = ca.send("GET", "/api/v1/export?with_secrets=1&for=" + key);
  ASSERT_EQ(exported->status, 200) << exported->body;
  auto imported = cb.send("POST", "/api/v1/import", json{{"text", exported->body}}.dump());
  ASSERT_EQ(imported->status, 200) << imported->body;
  EXPECT_EQ(json::parse(cb.send("GET", "/api/v1/connections")->body)["connections"][0]["status"], "not-verified");

  // Checked within seconds (not after the hour's interval), and never marked by the import.
  json status;
  for (int i = 0; i < 200; ++i) {
    status = json::parse(cb.send("GET", "/api/v1/status")->body)["connections"][0];
    if (status["status"] != "not-verified") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(status["status"], "authorized") << status.dump() << "\n" << b.log();
  EXPECT_TRUE(status["last_check"].is_string()) << status.dump();
  EXPECT_EQ(a.stop(), 0);
  EXPECT_EQ(b.stop(), 0);
  EXPECT_EQ(b.log().find(kToken), std::string::npos);
}

}  // namespace
}  // namespace tracklight::test
