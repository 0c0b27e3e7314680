// Jira OAuth 2.0 end to end through the real binary: the fake Atlassian (tests/fakes/
// signin_atlassian.py: auth.atlassian.com, api.atlassian.com and its gateway in front of a Jira
// Cloud) or the fake Data Center provider (signin_jira_dc.py, PKCE), over TLS. The test plays
// the browser: it follows the consent page's redirect and hands the address back to the agent,
// as the page's /oauth/callback does.
#include <gtest/gtest.h>

#include <thread>

#include "firmware/model/url.hpp"
#include "platform/clock.hpp"
#include "platform/https_client.hpp"
#include "tests/integration/fake_tracker.hpp"

namespace tracklight::test {
namespace {

using nlohmann::json;

const char* kClient = "atl-client-7Qm2";
const char* kSecret = "CANARY-ATL-SECRET-41c";
const char* kPassword = "correct horse battery";
const char* kDialog = "itest-dialog-0123456789";
const char* kCallback = "http://localhost:8765/cb";  // the paste-back path: nothing listens there

struct JiraOAuth2AgentTest : ::testing::Test {
  TempDir tmp;
  std::string state = tmp.path() + "/state";
  platform::PosixClock clock;
  platform::MbedtlsConnector browser{clock};

  void SetUp() override { ASSERT_FALSE(pki_dir().empty()); }

  static json cloud_scenario(int port) {
    const std::string site = "https://localhost:" + std::to_string(port);
    return {{"personality", "jira-cloud"},
            {"expected_authorization", "only the gateway's Bearer tokens"},
            {"atlassian", {{"clients", {{kClient, {{"secret", kSecret}, {"callback", kCallback}}}}},
                           {"sites", {{{"id", "11111111-2222-3333-4444-555555555555"}, {"name", "fabrikam"}, {"url", site}}}},
                           {"auto_consent", true}}}};
  }
  static json dc_scenario() {
    return {{"personality", "jira-dc"},
            {"base_path", "/jira"},
            {"expected_authorization", "only the provider's Bearer tokens"},
            {"jira_oauth2", {{"clients", {{kClient, {{"secret", kSecret}, {"callback", kCallback}}}}},
                             {"require_pkce", true}, {"auto_consent", true}}}};
  }
  static json connection(int port, const std::string& path = "") {
    return {{"name", "Fabrikam"}, {"provider", "jira"}, {"auth", "oauth2"},
            {"server_url", "https://localhost:" + std::to_string(port) + path},
            {"client_id", kClient}, {"client_secret", kSecret}, {"redirect_uri", kCallback},
            {"ca_cert", test_ca_pem()}};
  }
  std::vector<std::string> atlassian_at(int port) {
    const std::string url = "https://localhost:" + std::to_string(port);
    return {"--atlassian-auth-url", url, "--atlassian-api-url", url};
  }
  // Starts the agent and sets its admin password; the client is logged in.
  ApiClient start(AgentProcess& agent, const std::vector<std::string>& extra = {}) {
    EXPECT_TRUE(agent.start(extra)) << agent.log();
    ApiClient c(agent.port());
    EXPECT_TRUE(c.setup(setup_code_of(state), kPassword));
    return c;
  }
  // The browser at the consent page (the fakes' auto_consent accepts at once): where it is sent.
  std::string consent(const std::string& authorize_url) {
    firmware::Url u;
    EXPECT_EQ(firmware::parse_url(authorize_url.substr(0, authorize_url.find('?')), u), "");
    platform::HttpsTarget t;
    t.host = u.host;
    t.port = u.port;
    t.extra_ca_pem = test_ca_pem();
    t.deadline_ms = clock.monotonic_ms() + 10000;
    auto conn = browser.open(t);
    if (!conn) return "no connection: " + conn.error().detail;
    auto r = (*conn)->get(authorize_url.substr(authorize_url.find(u.path)), {});
    if (!r || r->status != 302 || !r->header("Location")) return "no redirect";
    return *r->header("Location");
  }
  // Sign in as the dialog does: the agent's offer, the consent, the landing address handed back.
  json sign_in(ApiClient& c, const json& conn, std::string& id) {
    auto started = c.send("POST", "/api/v1/signin", json{{"connection", conn}, {"dialog", kDialog}}.dump());
    if (!started || started->status != 200) return {{"state", "no offer"}};
    const json offer = json::parse(started->body);
    id = offer.value("id", "");
    if (offer.value("state", "") != "waiting") return offer;
    const std::string landed = consent(offer["authorize_url"]);
    auto done = c.send("POST", "/api/v1/signin/" + id, json{{"url", landed}}.dump());
    return done && done->status == 200 ? json::parse(done->body) : json{{"state", "refused"}, {"body", done ? done->body : ""}};
  }
  static int token_requests(const FakeTracker& fake, const std::string& grant) {
    int n = 0;
    for (const auto& r : fake.requests()) n += r.value("grant_type", "") == grant;
    return n;
  }
};

TEST_F(JiraOAuth2AgentTest, CloudSignInConnectsAndRenewsAcrossRestarts) {
  FakeTracker fake(tmp.path(), json::object());
  fake.set(cloud_scenario(fake.port()));
  AgentProcess agent(state);
  ApiClient c = start(agent, atlassian_at(fake.port()));

  json conn = connection(fake.port());
  std::string id;
  const json done = sign_in(c, conn, id);
  ASSERT_EQ(done["state"], "complete") << done.dump(1);
  EXPECT_EQ(token_requests(fake, "authorization_code"), 1);

  conn["signin"] = id;
  conn["dialog"] = kDialog;
  auto put = c.send("PUT", "/api/v1/connections/fabrikam", conn.dump());
  ASSERT_EQ(put->status, 200) << put->body;
  EXPECT_EQ(json::parse(put->body)["connection"]["status"], "authorized") << put->body;
  EXPECT_EQ(json::parse(put->body)["connection"]["cloud_id"], "11111111-2222-3333-4444-555555555555");
  EXPECT_EQ(token_requests(fake, "refresh_token"), 0) << "Connect renewed instead of using the sign-in's token";
  int gateway = 0;
  for (const auto& r : fake.requests()) gateway += r["path"].get<std::string>().rfind("/ex/jira/11111111-", 0) == 0;
  EXPECT_GE(gateway, 2) << "the checks did not go through the API gateway";
  const std::string file = read_text(state + "/tracklight.conf");
  EXPECT_NE(file.find("refresh_token = sealed:"), std::string::npos) << file;
  EXPECT_EQ(file.find(kSecret), std::string::npos);
  agent.stop();
  EXPECT_EQ(agent.log().find(kSecret), std::string::npos);

  // The command line renews from the sealed, single-use refresh token twice: the second run
  // needs the token the first one saved.
  for (int run = 1; run <= 2; ++run) {
    const std::string out = tmp.path() + "/out.txt";
    const std::string cmd = std::string(TRACKLIGHT_BINARY) + " test fabrikam --state-dir " + state +
                            " --atlassian-auth-url https://localhost:" + std::to_string(fake.port()) +
                            " --atlassian-api-url https://localhost:" + std::to_string(fake.port()) + " > " + out + " 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << "run " << run << ": " << read_text(out);
    EXPECT_NE(read_text(out).find("Got a token from Atlassian"), std::string::npos) << read_text(out);
    EXPECT_EQ(token_requests(fake, "refresh_token"), run);
  }

  // Restarted: two Tests at once share one renewal.
  AgentProcess again(state);
  ASSERT_TRUE(again.start(atlassian_at(fake.port()))) << again.log();
  json stored = connection(fake.port());
  stored.erase("client_secret");
  stored["id"] = "fabrikam";
  const auto [ra, rb] = two_tests_at_once(again.port(), kPassword, stored.dump());
  EXPECT_EQ(ra["status"], "authorized") << ra.dump(1);
  EXPECT_EQ(rb["status"], "authorized") << rb.dump(1);
  EXPECT_EQ(token_requests(fake, "refresh_token"), 3) << "two renewals for one token (a rotating token spent twice)";
}

TEST_F(JiraOAuth2AgentTest, DataCenterSignInWithPkce) {
  FakeTracker fake(tmp.path(), dc_scenario());
  AgentProcess agent(state);
  ApiClient c = start(agent);
  json conn = connection(fake.port(), "/jira");
  std::string id;
  const json done = sign_in(c, conn, id);
  ASSERT_EQ(done["state"], "complete") << done.dump(1);
  conn["signin"] = id;
  conn["dialog"] = kDialog;
  auto put = c.send("PUT", "/api/v1/connections/dc", conn.dump());
  ASSERT_EQ(put->status, 200) << put->body;
  EXPECT_EQ(json::parse(put->body)["connection"]["status"], "authorized") << put->body;
  agent.stop();

  // A new process renews with the refresh grant (redirect_uri repeated, as Data Center checks).
  const std::string out = tmp.path() + "/out.txt";
  const std::string cmd = std::string(TRACKLIGHT_BINARY) + " test dc --state-dir " + state + " > " + out + " 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << read_text(out);
  EXPECT_NE(read_text(out).find("Got a token from Jira"), std::string::npos) << read_text(out);
  EXPECT_EQ(token_requests(fake, "refresh_token"), 1);
}

TEST_F(JiraOAuth2AgentTest, AWrongClientSecretIsNamed) {
  FakeTracker fake(tmp.path(), dc_scenario());
  AgentProcess agent(state);
  ApiClient c = start(agent);
  json conn = connection(fake.port(), "/jira");
  conn["client_secret"] = "CANARY-WRONG-SECRET";
  std::string id;
  const json done = sign_in(c, conn, id);
  EXPECT_EQ(done["state"], "failed") << done.dump(1);
  EXPECT_NE(done.dump().find("refused the Client ID or Secret"), std::string::npos) << done.dump(1);
  EXPECT_EQ(done.dump().find("CANARY"), std::string::npos);
  agent.stop();
  EXPECT_EQ(agent.log().find("CANARY-WRONG-SECRET"), std::string::npos) << "the secret reached the log";
  EXPECT_NE(agent.log().find("Jira OAuth 2.0 sign-in failed"), std::string::npos) << agent.log();
}

}  // namespace
}  // namespace tracklight::test
