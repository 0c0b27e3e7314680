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
  // Sets the admin password and connects "jira" to the fake; returns the logged-in client.
  ApiClient set_up_and_connect(AgentProcess& agent, const FakeTracker& fake) {
    ApiClient c(agent.port());
    EXPECT_TRUE(c.setup(setup_code_of(state), "correct horse battery"));
    auto ok = c.send("PUT", "/api/v1/connections/jira", connection(fake.port()).dump());
    EXPECT_EQ(ok->status, 200) << ok->body;
    EXPECT_EQ(json::parse(ok->body)["connection"]["status"], "authorized");
    return c;
  }
};

TEST_F(ConnectTest, PassingConnectSavesAuthorizedAndAFailingOneChangesNothing) {
  ASSERT_FALSE(pki_dir().empty());
  FakeTracker fake(tmp.path(), scenario);
  AgentProcess agent(state);
  ASSERT_TRUE(agent.start()) << agent.log();
  ApiClient c = set_up_and_connect(agent, fake);
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

namespace tracklight::test {
namespace {

TEST_F(ConnectTest, SigtermStopsPromptlyDuringABackgroundCheck) {
  ASSERT_FALSE(pki_dir().empty());
  FakeTracker fake(tmp.path(), scenario);
  {
    AgentProcess agent(state);
    ASSERT_TRUE(agent.start()) << agent.log();
    set_up_and_connect(agent, fake);
    agent.stop();
  }
  scenario["hang"] = 60;  // answers TLS, never the HTTP request
  fake.set(scenario);
  const size_t before = fake.requests().size();
  AgentProcess agent(state);
  ASSERT_TRUE(agent.start()) << agent.log();
  // The first background check starts about 5 s after start-up; wait until the fake has it.
  for (int i = 0; i < 1000 && fake.requests().size() == before; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_GT(fake.requests().size(), before) << "the monitor did not check the connection";
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(agent.stop(), 0);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(took, 2000) << "SIGTERM waited for the check in flight";
}

}  // namespace
}  // namespace tracklight::test

namespace tracklight::test {
namespace {

// A Jira answer with a field of the wrong type made nlohmann::json throw: `tracklight test`
// died in std::terminate, and the agent itself aborted a few seconds after every start when
// its monitor checked the connection (under systemd, a restart loop). Now both report an
// unexpected answer naming the endpoint and the field, and the agent keeps running.
TEST_F(ConnectTest, AWrongTypeInAnAnswerIsReportedAndNothingCrashes) {
  ASSERT_FALSE(pki_dir().empty());
  FakeTracker fake(tmp.path(), scenario);
  {
    AgentProcess agent(state);
    ASSERT_TRUE(agent.start()) << agent.log();
    set_up_and_connect(agent, fake);
    agent.stop();
  }
  scenario["overrides"]["/rest/api/2/mypermissions"] = {
      {"status", 200}, {"body", {{"permissions", {{"BROWSE_PROJECTS", {{"havePermission", "yes"}}}}}}}};
  fake.set(scenario);
  const std::string field = "field permissions.BROWSE_PROJECTS.havePermission is a string, expected true or false";

  std::string cmd = std::string(TRACKLIGHT_BINARY) + " test jira --state-dir " + state + " > " + tmp.path() + "/out.txt 2>&1";
  const int rc = std::system(cmd.c_str());
  const std::string out = read_text(tmp.path() + "/out.txt");
  ASSERT_TRUE(WIFEXITED(rc)) << out;
  EXPECT_EQ(WEXITSTATUS(rc), 1) << "134 is the shell's code for an abort: " << out;
  EXPECT_NE(out.find("jira (jira): interrupted"), std::string::npos) << out;
  EXPECT_NE(out.find("Unexpected answer from GET /rest/api/2/mypermissions: " + field), std::string::npos) << out;

  // The running agent: its background check (about 5 s after start-up) meets the same answer.
  AgentProcess agent(state);
  ASSERT_TRUE(agent.start()) << agent.log();
  ApiClient c(agent.port());
  ASSERT_TRUE(c.login("correct horse battery"));
  json status;
  for (int i = 0; i < 1500; ++i) {  // at most 15 s
    auto r = c.send("GET", "/api/v1/status");
    ASSERT_TRUE(r) << "the agent stopped answering: " << agent.log();
    status = json::parse(r->body)["connections"][0];
    if (status["status"] == "interrupted") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(status["status"], "interrupted") << status.dump();
  ASSERT_TRUE(status["last_error"].is_string()) << status.dump();
  EXPECT_NE(status["last_error"].get<std::string>().find(field), std::string::npos) << status.dump();
  auto health = c.send("GET", "/healthz");
  ASSERT_TRUE(health) << agent.log();
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(agent.stop(), 0) << agent.log();
}

}  // namespace
}  // namespace tracklight::test
