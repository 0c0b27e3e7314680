// Azure DevOps through Microsoft Entra ID, end to end through the real binary: the agent's page
// API asks the fake Entra ID (tests/fakes/signin_entra.py) or the fake managed-identity endpoint
// (signin_managed.py, plain HTTP on loopback) for a token, and the fake Azure DevOps accepts it.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "tests/integration/fake_tracker.hpp"

namespace tracklight::test {
namespace {

using nlohmann::json;

const char* kTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const char* kClient = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
const char* kSecret = "CANARY-CLIENT-SECRET-5e1a";
const char* kPassword = "correct horse battery";

struct EntraTest : ::testing::Test {
  TempDir tmp;
  std::string state = tmp.path() + "/state";

  void SetUp() override { ASSERT_FALSE(pki_dir().empty()); }

  // Starts the agent and sets its admin password; the client is logged in.
  ApiClient start(AgentProcess& agent, const std::vector<std::string>& extra = {}) {
    EXPECT_TRUE(agent.start(extra)) << agent.log();
    ApiClient c(agent.port());
    EXPECT_TRUE(c.setup(setup_code_of(state), kPassword));
    return c;
  }

  // One fake plays Entra ID and Azure DevOps Server (collection /tfs/DefaultCollection).
  static json scenario() {
    return {{"personality", "ado"},
            {"collection_path", "/tfs/DefaultCollection"},
            {"expected_authorization", "no PAT is accepted here"},
            {"projects", {"Fiber"}},
            {"entra", {{"tenant", kTenant}, {"clients", {{kClient, {{"secret", kSecret}}}}}}}};
  }
  static json service_principal(int port) {
    return {{"name", "Fabrikam"}, {"provider", "azure-devops"},
            {"server_url", "https://localhost:" + std::to_string(port) + "/tfs"},
            {"auth", "service-principal"}, {"tenant_id", kTenant}, {"client_id", kClient},
            {"client_secret", kSecret}, {"authority_host", "https://localhost:" + std::to_string(port)},
            {"project", "Fiber"}, {"ca_cert", test_ca_pem()}};
  }
  static json check_of(const json& report, const std::string& id) {
    for (const auto& c : report["checks"])
      if (c["id"] == id) return c;
    return json();
  }
  static int token_requests(const FakeTracker& fake, const std::string& grant) {
    int n = 0;
    for (const auto& r : fake.requests()) n += r.value("grant_type", "") == grant;
    return n;
  }
  static constexpr const char* kDialog = "itest-dialog-0123456789";
  // The service principal's settings as a device code connection.
  static json device_code(int port) {
    json conn = service_principal(port);
    conn.erase("client_secret");
    conn["auth"] = "device-code";
    return conn;
  }
  // Starts a device code sign-in and polls it, as the dialog does, until it is no longer waiting
  // (the fake approves or refuses by its scenario). Returns the offer and the last answer.
  static std::pair<json, json> sign_in(ApiClient& c, const json& conn) {
    auto started = c.send("POST", "/api/v1/signin", json{{"connection", conn}, {"dialog", kDialog}}.dump());
    json offer = started && started->status == 200 ? json::parse(started->body) : json{{"state", "no answer"}};
    json done = offer;
    for (int i = 0; i < 100 && done.value("state", "") == "waiting"; ++i) {  // the agent asks about every second
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      done = json::parse(c.send("GET", "/api/v1/signin/" + offer.value("id", "") + "?dialog=" + kDialog)->body);
    }
    return {offer, done};
  }
  static int tracker_requests(const FakeTracker& fake) {
    int n = 0;
    for (const auto& r : fake.requests()) n += r["path"].get<std::string>().rfind("/tfs/", 0) == 0;
    return n;
  }
};

TEST_F(EntraTest, ServicePrincipalTestAndConnectThroughTheAgent) {
  FakeTracker fake(tmp.path(), scenario());
  AgentProcess agent(state);
  ApiClient c = start(agent);

  json report = report_of(c.send("POST", "/api/v1/connections/test", service_principal(fake.port()).dump()));
  EXPECT_EQ(report["status"], "authorized") << report.dump(1);
  EXPECT_EQ(check_of(report, "signin")["result"], "pass");
  EXPECT_EQ(token_requests(fake, "client_credentials"), 1);

  // Connect: verified with the token the Test got (kept in memory), then saved sealed.
  auto put = c.send("PUT", "/api/v1/connections/fabrikam", service_principal(fake.port()).dump());
  ASSERT_EQ(put->status, 200) << put->body;
  EXPECT_EQ(json::parse(put->body)["connection"]["status"], "authorized");
  EXPECT_EQ(token_requests(fake, "client_credentials"), 1) << "the kept token was not used";
  EXPECT_EQ(json::parse(put->body)["connection"]["secrets"]["client_secret"], true);
  EXPECT_EQ(put->body.find(kSecret), std::string::npos);
  EXPECT_EQ(read_text(state + "/tracklight.conf").find(kSecret), std::string::npos);
  EXPECT_NE(read_text(state + "/tracklight.conf").find("auth = service-principal"), std::string::npos);

  // A changed authority host does not carry the stored secret there.
  json moved = service_principal(fake.port());
  moved.erase("client_secret");
  moved["id"] = "fabrikam";  // a Test of the stored connection, edited
  moved["authority_host"] = "https://login.microsoftonline.us";
  auto refused = c.send("POST", "/api/v1/connections/test", moved.dump());
  EXPECT_EQ(refused->status, 400);
  EXPECT_NE(refused->body.find("secret_not_carried"), std::string::npos) << refused->body;
  agent.stop();
  EXPECT_EQ(agent.log().find(kSecret), std::string::npos);
  EXPECT_EQ(agent.log().find("eyJ"), std::string::npos) << "a token reached the log";

  // Headless, from the sealed file: a new process signs in by itself.
  const std::string cmd = std::string(TRACKLIGHT_BINARY) + " test fabrikam --state-dir " + state + " > " +
                          tmp.path() + "/out.txt 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << read_text(tmp.path() + "/out.txt");
  EXPECT_NE(read_text(tmp.path() + "/out.txt").find("Got a token from Microsoft Entra ID"), std::string::npos);
  EXPECT_EQ(token_requests(fake, "client_credentials"), 2);
}

TEST_F(EntraTest, EntraAndAzureDevOpsRefusalsSayWhatToDo) {
  json s = scenario();
  FakeTracker fake(tmp.path(), s);
  AgentProcess agent(state);
  ApiClient c = start(agent);
  auto test_with = [&](json conn) { return report_of(c.send("POST", "/api/v1/connections/test", conn.dump())); };

  json wrong = service_principal(fake.port());
  wrong["client_secret"] = "not-the-secret";
  json r = test_with(wrong);
  EXPECT_EQ(r["status"], "not-authorized");
  EXPECT_NE(check_of(r, "signin")["message"].get<std::string>().find("refused the client secret (AADSTS7000215)"),
            std::string::npos) << r.dump(1);
  json unknown_tenant = service_principal(fake.port());
  unknown_tenant["tenant_id"] = "00000000-0000-0000-0000-00000000dead";
  r = test_with(unknown_tenant);
  EXPECT_NE(check_of(r, "signin")["message"].get<std::string>().find("AADSTS90002"), std::string::npos) << r.dump(1);
  json unknown_app = service_principal(fake.port());
  unknown_app["client_id"] = "11111111-2222-3333-4444-555555555555";
  r = test_with(unknown_app);
  EXPECT_NE(check_of(r, "signin")["message"].get<std::string>().find("AADSTS700016"), std::string::npos) << r.dump(1);
  EXPECT_EQ(tracker_requests(fake), 0) << "Azure DevOps was asked without a token";

  // The token is good, but the organisation does not know the app.
  s["entra_in_org"] = json::array();
  fake.set(s);
  r = test_with(service_principal(fake.port()));
  EXPECT_EQ(r["status"], "not-authorized");
  EXPECT_NE(check_of(r, "sign-in")["message"].get<std::string>().find("TF400813"), std::string::npos) << r.dump(1);
  EXPECT_NE(check_of(r, "sign-in")["hint"].get<std::string>().find("Organization settings > Users"), std::string::npos);
  s.erase("entra_in_org");
  s["entra_first_signin"] = {kClient};
  fake.set(s);
  r = test_with(service_principal(fake.port()));
  EXPECT_NE(check_of(r, "sign-in")["message"].get<std::string>().find("TF401444"), std::string::npos) << r.dump(1);
}

// The monitor keeps a service principal authorized with tokens from memory, and when Azure
// DevOps starts refusing them it asks for one new token, then stops (not-authorized).
TEST_F(EntraTest, TheMonitorUsesTheKeptTokenAndStopsWhenRefused) {
  json s = scenario();
  FakeTracker fake(tmp.path(), s);
  AgentProcess agent(state);
  ApiClient c = start(agent);
  json conn = service_principal(fake.port());
  conn["check_interval_s"] = 10;
  ASSERT_EQ(c.send("PUT", "/api/v1/connections/fabrikam", conn.dump())->status, 200);
  ASSERT_EQ(token_requests(fake, "client_credentials"), 1);
  s["entra_in_org"] = json::array();  // the app was removed from the organisation
  fake.set(s);
  json status;
  for (int i = 0; i < 250; ++i) {  // the next check is due after about 10 s
    status = json::parse(c.send("GET", "/api/v1/status")->body);
    if (status["connections"][0]["status"] == "not-authorized") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(status["connections"][0]["status"], "not-authorized") << status.dump(1);
  EXPECT_EQ(token_requests(fake, "client_credentials"), 2) << "one new token after the refusal, not a loop";
}

// The device code: the person signs in on the fake's verification page (here approved by the
// scenario after one pending poll); Connect keeps the refresh token sealed; after a restart the
// headless `tracklight test` renews it, and the rotated token is saved (the fake's refresh tokens
// are single-use, as Atlassian's are, so a lost rotation fails the next renewal); two Tests at
// once after a restart make one renewal between them.
TEST_F(EntraTest, DeviceCodeSignInSurvivesRestartsAndRotates) {
  json s = scenario();
  s["entra"]["clients"][kClient] = {{"public_client", true}};
  s["entra"]["device"] = {{"interval", 1}, {"pending_polls", 1}, {"outcome", "approve"}};
  FakeTracker fake(tmp.path(), s);
  AgentProcess agent(state);
  ApiClient c = start(agent);
  json conn = device_code(fake.port());
  auto [offer, done] = sign_in(c, conn);
  EXPECT_NE(offer.value("verification_uri", "").find("/devicelogin"), std::string::npos) << offer.dump(1);
  EXPECT_EQ(offer.value("user_code", "").size(), 9u);
  ASSERT_EQ(done["state"], "complete") << done.dump(1);
  EXPECT_EQ(done["account"], "mia@fabrikam.example");
  EXPECT_EQ(token_requests(fake, "urn:ietf:params:oauth:grant-type:device_code"), 2) << "pending once, then the tokens";

  conn["signin"] = offer["id"];
  conn["dialog"] = kDialog;
  auto put = c.send("PUT", "/api/v1/connections/dc", conn.dump());
  ASSERT_EQ(put->status, 200) << put->body;
  EXPECT_EQ(json::parse(put->body)["connection"]["status"], "authorized") << put->body;
  EXPECT_EQ(json::parse(put->body)["connection"]["signed_in_as"], "mia@fabrikam.example");
  EXPECT_EQ(token_requests(fake, "refresh_token"), 0) << "Connect renewed instead of using the sign-in's token";
  const std::string file = read_text(state + "/tracklight.conf");
  EXPECT_NE(file.find("refresh_token = sealed:"), std::string::npos) << file;
  agent.stop();
  EXPECT_EQ(agent.log().find("eyJ"), std::string::npos) << "a token reached the log";

  // A new process renews from the sealed refresh token, twice: the second renewal needs the
  // token the first one was given.
  for (int run = 1; run <= 2; ++run) {
    const std::string out = tmp.path() + "/out.txt";
    const std::string cmd = std::string(TRACKLIGHT_BINARY) + " test dc --state-dir " + state + " > " + out + " 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << "run " << run << ": " << read_text(out);
    EXPECT_NE(read_text(out).find("Got a token from Microsoft Entra ID for mia@fabrikam.example"), std::string::npos) << read_text(out);
    EXPECT_EQ(token_requests(fake, "refresh_token"), run);
  }
  EXPECT_NE(read_text(state + "/tracklight.conf"), file) << "the rotated refresh token was not saved";

  // Restarted: two Tests at once share one renewal.
  AgentProcess again(state);
  ASSERT_TRUE(again.start()) << again.log();
  json stored = conn;
  stored.erase("signin");
  stored.erase("dialog");
  stored["id"] = "dc";
  const auto [ra, rb] = two_tests_at_once(again.port(), kPassword, stored.dump());
  EXPECT_EQ(ra["status"], "authorized") << ra.dump(1);
  EXPECT_EQ(rb["status"], "authorized") << rb.dump(1);
  EXPECT_EQ(token_requests(fake, "refresh_token"), 3) << "two renewals for one token (a rotating token spent twice)";
}

// `tracklight test` renews beside the running agent: with single-use refresh tokens the agent's
// own one is then spent, and Entra's refusal makes it read the file again and go on with the
// token the command saved, instead of asking the person to sign in again.
TEST_F(EntraTest, DeviceCodeRenewedByTheCommandLineBesideTheAgent) {
  json s = scenario();
  s["entra"]["clients"][kClient] = {{"public_client", true}};
  s["entra"]["device"] = {{"interval", 1}, {"outcome", "approve"}};
  FakeTracker fake(tmp.path(), s);
  AgentProcess agent(state);
  ApiClient c = start(agent);
  json conn = device_code(fake.port());
  auto [offer, done] = sign_in(c, conn);
  ASSERT_EQ(done["state"], "complete") << done.dump(1);
  conn["signin"] = offer["id"];
  conn["dialog"] = kDialog;
  ASSERT_EQ(c.send("PUT", "/api/v1/connections/dc", conn.dump())->status, 200);
  agent.stop();

  s["entra"]["token_lifetime_s"] = 302;  // kept for 2 s (renewed 5 minutes before expiry)
  fake.set(s);
  AgentProcess again(state);
  ASSERT_TRUE(again.start()) << again.log();
  ApiClient a(again.port());
  ASSERT_TRUE(a.login(kPassword));
  json stored = {{"id", "dc"}};
  for (auto k : {"name", "provider", "server_url", "auth", "tenant_id", "client_id", "authority_host", "project", "ca_cert"})
    stored[k] = conn[k];
  EXPECT_EQ(report_of(a.send("POST", "/api/v1/connections/test", stored.dump()))["status"], "authorized");
  const std::string out = tmp.path() + "/out.txt";
  const std::string cmd = std::string(TRACKLIGHT_BINARY) + " test dc --state-dir " + state + " > " + out + " 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << read_text(out);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  json r = report_of(a.send("POST", "/api/v1/connections/test", stored.dump()));
  EXPECT_EQ(r["status"], "authorized") << r.dump(1);
  EXPECT_NE(again.log().find("(a sign-in renewed elsewhere?); reloaded it"), std::string::npos) << again.log();
  EXPECT_EQ(token_requests(fake, "refresh_token"), 4) << "agent, command, the agent's spent token, then the command's";
}

TEST_F(EntraTest, DeviceCodeWithoutPublicClientFlowsNamesTheSwitch) {
  json s = scenario();
  s["entra"]["clients"][kClient] = json::object();  // "Allow public client flows" is off
  s["entra"]["device"] = {{"interval", 1}, {"outcome", "approve"}};
  FakeTracker fake(tmp.path(), s);
  AgentProcess agent(state);
  ApiClient c = start(agent);
  json done = sign_in(c, device_code(fake.port())).second;
  EXPECT_EQ(done["state"], "failed") << done.dump(1);
  EXPECT_NE(done["error"]["message"].get<std::string>().find("AADSTS7000218"), std::string::npos) << done.dump(1);
  EXPECT_NE(done["error"]["hint"].get<std::string>().find("Allow public client flows"), std::string::npos) << done.dump(1);
}

struct ManagedIdentityTest : EntraTest {
  std::string key_dir = tmp.path() + "/azcmagent-tokens";
  // Azure DevOps over TLS, and the identity endpoint over plain HTTP on loopback.
  json ado() {
    json s = scenario();
    s.erase("entra");
    return s;
  }
  json mi_connection(int port, const std::string& client_id = "") {
    return {{"name", "Fabrikam"}, {"provider", "azure-devops"},
            {"server_url", "https://localhost:" + std::to_string(port) + "/tfs"},
            {"auth", "managed-identity"}, {"client_id", client_id}, {"project", "Fiber"}, {"ca_cert", test_ca_pem()}};
  }
};

TEST_F(ManagedIdentityTest, AzureVmInstanceMetadataService) {
  FakeTracker tracker(tmp.path(), ado());
  FakeTracker imds(tmp.path(), {{"personality", "ado"}, {"managed_identity", "imds"},
                                {"imds", {{"user_assigned", {kClient}}}}},
                   "plain", {"--plain"});
  ASSERT_GT(imds.port(), 0);
  AgentProcess agent(state);
  agent.env = {{"AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:" + std::to_string(imds.port())}};
  ApiClient c = start(agent, {"--managed-identity-server", "https://localhost:" + std::to_string(tracker.port())});
  json r = report_of(c.send("POST", "/api/v1/connections/test", mi_connection(tracker.port()).dump()));
  EXPECT_EQ(r["status"], "authorized") << r.dump(1);
  r = report_of(c.send("POST", "/api/v1/connections/test", mi_connection(tracker.port(), kClient).dump()));
  EXPECT_EQ(r["status"], "authorized") << r.dump(1);
  r = report_of(c.send("POST", "/api/v1/connections/test",
                       mi_connection(tracker.port(), "99999999-8888-7777-6666-555555555555").dump()));
  EXPECT_EQ(r["status"], "not-authorized") << r.dump(1);
  EXPECT_NE(check_of(r, "signin")["hint"].get<std::string>().find("user-assigned"), std::string::npos) << r.dump(1);
  // A server the operator did not name never sees the machine's token.
  json elsewhere = mi_connection(tracker.port());
  elsewhere["server_url"] = "https://127.0.0.1:" + std::to_string(tracker.port()) + "/tfs";
  const size_t asked = imds.requests().size();
  r = report_of(c.send("POST", "/api/v1/connections/test", elsewhere.dump()));
  EXPECT_EQ(r["status"], "invalid") << r.dump(1);
  EXPECT_EQ(imds.requests().size(), asked);
  bool metadata = false;
  for (const auto& q : imds.requests()) metadata = metadata || q["path"].get<std::string>().find("api-version=2018-02-01") != std::string::npos;
  EXPECT_TRUE(metadata);
}

TEST_F(ManagedIdentityTest, AzureArcKeyFileChallenge) {
  std::filesystem::create_directories(key_dir);
  FakeTracker tracker(tmp.path(), ado());
  json arc = {{"personality", "ado"}, {"managed_identity", "arc"}, {"arc", {{"key_dir", key_dir}}}};
  FakeTracker himds(tmp.path(), arc, "plain", {"--plain"});
  ASSERT_GT(himds.port(), 0);
  const std::string endpoint = "http://127.0.0.1:" + std::to_string(himds.port());
  AgentProcess agent(state);
  agent.env = {{"IDENTITY_ENDPOINT", endpoint + "/metadata/identity/oauth2/token"}, {"IMDS_ENDPOINT", endpoint}};
  ApiClient c = start(agent, {"--arc-token-dir", key_dir, "--managed-identity-server",
                              "https://localhost:" + std::to_string(tracker.port()), "--managed-identity-server",
                              "https://127.0.0.1:" + std::to_string(tracker.port())});
  json r = report_of(c.send("POST", "/api/v1/connections/test", mi_connection(tracker.port()).dump()));
  EXPECT_EQ(r["status"], "authorized") << r.dump(1);

  // A challenge naming a file outside the token folder is not followed.
  const std::string outside = tmp.path() + "/elsewhere.key";
  std::ofstream(outside) << "not-to-be-read";
  arc["arc"]["realm_override"] = outside;
  himds.set(arc);
  // (The token from before is kept for those settings: other ones make the agent ask again.)
  json other = mi_connection(tracker.port());
  other["name"] = "Other";
  other["server_url"] = "https://127.0.0.1:" + std::to_string(tracker.port()) + "/tfs";
  r = report_of(c.send("POST", "/api/v1/connections/test", other.dump()));
  EXPECT_EQ(r["status"], "interrupted") << r.dump(1);
  EXPECT_NE(check_of(r, "signin")["message"].get<std::string>().find("does not name a key file"), std::string::npos)
      << r.dump(1);
}

}  // namespace
}  // namespace tracklight::test
