// Connect and `tracklight test` through the real binary against the fake Jira over TLS.
#include <gtest/gtest.h>

#include "platform/https_client.hpp"
#include "tests/integration/fake_tracker.hpp"

namespace tracklight::test {
namespace {

using nlohmann::json;

struct ConnectTest : ::testing::Test {
  TempDir tmp;
  std::string state = tmp.path() + "/state";
  json scenario = {{"personality", "jira-cloud"},
                   {"expected_authorization", platform::basic_auth_value("mia@example.com", "CANARY-TOKEN-c0ff")},
                   {"user", {{"email", "mia@example.com"}}}};
  json connection(int port) {
    return {{"name", "Team Jira"}, {"provider", "jira"}, {"server_url", "https://localhost:" + std::to_string(port)},
            {"auth", "api-key"}, {"username", "mia@example.com"}, {"api_key", "CANARY-TOKEN-c0ff"},
            {"ca_cert", test_ca_pem()}};
  }
};

TEST_F(ConnectTest, PassingConnectSavesAuthorizedAndAFailingOneChangesNothing) {
  ASSERT_FALSE(pki_dir().empty());
  FakeTracker fake(tmp.path(), scenario);
  AgentProcess agent(state);
  ASSERT_TRUE(agent.start()) << agent.log();
  ApiClient c(agent.port());
  ASSERT_TRUE(c.setup(setup_code_of(state), "correct horse battery"));

  auto ok = c.send("PUT", "/api/v1/connections/jira", connection(fake.port()).dump());
  ASSERT_EQ(ok->status, 200) << ok->body;
  EXPECT_EQ(json::parse(ok->body)["connection"]["status"], "authorized");
  const std::string conf = state + "/tracklight.conf";
  const std::string before = read_text(conf);
  EXPECT_NE(before.find("status = authorized"), std::string::npos);

  // Same connection, but Jira now refuses a permission: 422 with the report; the file is
  // byte-for-byte what it was.
  scenario["permissions"] = {{"DELETE_ALL_COMMENTS", false}};
  fake.set(scenario);
  json edit = connection(fake.port());
  edit["name"] = "Renamed";
  auto bad = c.send("PUT", "/api/v1/connections/jira", edit.dump());
  ASSERT_EQ(bad->status, 422) << bad->body;
  json report = json::parse(bad->body)["report"];
  EXPECT_EQ(report["ok"], false);
  bool named = false;
  for (const auto& ch : report["checks"]) named = named || ch["message"] == "Missing permissions: Delete all comments";
  EXPECT_TRUE(named) << report.dump(1);
  EXPECT_EQ(read_text(conf), before);

  // Test uses the stored token when the request omits it, and saves nothing.
  json test_body = {{"id", "jira"}, {"name", "Team Jira"}, {"provider", "jira"},
                    {"server_url", "https://localhost:" + std::to_string(fake.port())}, {"auth", "api-key"},
                    {"username", "mia@example.com"}, {"ca_cert", test_ca_pem()}};
  auto t = c.send("POST", "/api/v1/connections/test", test_body.dump());
  ASSERT_EQ(t->status, 200);
  EXPECT_EQ(json::parse(t->body)["status"], "not-authorized");
  EXPECT_EQ(read_text(conf), before);
  agent.stop();
  EXPECT_EQ(agent.log().find("CANARY"), std::string::npos);

  // Headless: `tracklight test` exits non-zero on the failing permission, zero once fixed.
  std::string cmd = std::string(TRACKLIGHT_BINARY) + " test jira --state-dir " + state + " > " + tmp.path() + "/out.txt 2>&1";
  EXPECT_NE(std::system(cmd.c_str()), 0);
  EXPECT_NE(read_text(tmp.path() + "/out.txt").find("Missing permissions: Delete all comments"), std::string::npos);
  scenario.erase("permissions");
  fake.set(scenario);
  EXPECT_EQ(std::system(cmd.c_str()), 0) << read_text(tmp.path() + "/out.txt");
  EXPECT_EQ(read_text(tmp.path() + "/out.txt").find("CANARY"), std::string::npos);
}

}  // namespace
}  // namespace tracklight::test
