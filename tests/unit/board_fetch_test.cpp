// A board fetch against a scripted tracker: answers of the wrong type, and pipeline names the
// person listed twice.
#include "firmware/board/board_fetch.hpp"

#include <gtest/gtest.h>

#include "firmware/signin/signin.hpp"
#include "tests/support/fakes.hpp"

namespace tracklight::firmware {
namespace {

using nlohmann::json;

Connection azure_board() {
  Connection c;
  c.id = "ado";
  c.name = "Builds";
  c.provider = "azure-devops";
  c.server_url = "https://dev.azure.com/org";
  c.auth = "pat";
  c.token = "t";
  c.project = "Fiber";
  c.board.enabled = true;
  return c;
}

Connection jira_board() {
  Connection c;
  c.id = "jira";
  c.name = "Issues";
  c.provider = "jira";
  c.server_url = "https://jira.example";
  c.auth = "api-key";
  c.username = "mia@example.com";
  c.api_key = "k";
  c.board.enabled = true;
  return c;
}

const char* kTwoBuilds =
    R"({"count":2,"value":[{"buildNumber":"2","status":"completed","result":"failed","definition":{"name":"CI"}},)"
    R"({"buildNumber":"1","status":"completed","result":"succeeded","definition":{"name":"CI"}}]})";

// Listing a name twice gave the board a null tile: the page then said the agent was
// unreachable, and the next start refused the whole cache.
TEST(BoardFetchTest, ANameListedTwiceGivesOneTileNeverANull) {
  test::FakeClock clock;
  test::FakeHttps https;
  https.respond = [](const std::string&) { return test::json_answer(200, kTwoBuilds); };
  Connection c = azure_board();
  c.board.pipelines = {"CI", "CI"};
  // Validation refuses the setting before anything is sent.
  TrackerEnv env{clock, https};
  std::string flavour;
  BoardFetch refused = fetch_board(c, env, flavour);
  EXPECT_FALSE(refused.ok);
  EXPECT_TRUE(refused.needs_settings);
  EXPECT_NE(refused.error.find("board.pipelines[1]"), std::string::npos) << refused.error;
  EXPECT_TRUE(https.requests.empty());
  // And the fetch itself, given such settings anyway, shows the pipeline once.
  auto conn = https.open({});
  ASSERT_TRUE(conn.ok());
  BoardFetch out;
  platform::HeaderList headers;
  BoardClient client{**conn, headers, out};
  fetch_azure_board(c, client, "");
  ASSERT_TRUE(out.error.empty()) << out.error;
  ASSERT_EQ(out.data["pipelines"].size(), 1u) << out.data.dump();
  EXPECT_TRUE(out.data["pipelines"][0].is_object());
  EXPECT_EQ(out.data["pipelines"][0]["last_result"], "failed");
}

TEST(BoardFetchTest, AWrongTypeFailsTheFetchNamingEndpointAndField) {
  struct Case {
    bool jira;
    const char* body;
    const char* error;
  };
  const Case cases[] = {
      {true, R"({"issues":[{"key":"A-1","fields":{"status":"Done"}}],"isLast":true})",
       "unexpected answer from GET /rest/api/3/search/jql: field issues[0].fields.status is a string, expected an object"},
      {true, R"({"issues":[{"key":"A-1","fields":{"summary":["s"]}}],"isLast":true})",
       "unexpected answer from GET /rest/api/3/search/jql: field issues[0].fields.summary is an array, expected a string"},
      {true, R"({"issues":[],"isLast":"yes"})",
       "unexpected answer from GET /rest/api/3/search/jql: field isLast is a string, expected true or false"},
      {true, R"({"issues":{"key":"A-1"}})",
       "unexpected answer from GET /rest/api/3/search/jql: field issues is an object, expected an array"},
      {false, R"({"value":[{"definition":"CI","status":"completed"}]})",
       "unexpected answer from GET /org/Fiber/_apis/build/builds: field value[0].definition is a string, expected an object"},
      {false, R"({"value":[null]})",
       "unexpected answer from GET /org/Fiber/_apis/build/builds: field value[0] is null, expected an object"},
      {false, R"({"value":[{"definition":{"name":"CI"},"requestedFor":"Mia"}]})",
       "unexpected answer from GET /org/Fiber/_apis/build/builds: field value[0].requestedFor is a string, expected an object"},
      {false, R"({"value":{"count":0}})",
       "unexpected answer from GET /org/Fiber/_apis/build/builds: field value is an object, expected an array"},
  };
  for (const Case& k : cases) {
    test::FakeClock clock;
    test::FakeHttps https;
    https.respond = [&](const std::string&) { return test::json_answer(200, k.body); };
    TrackerEnv env{clock, https};
    std::string flavour = k.jira ? "cloud" : "";
    BoardFetch f;
    ASSERT_NO_THROW(f = fetch_board(k.jira ? jira_board() : azure_board(), env, flavour)) << k.body;
    EXPECT_FALSE(f.ok) << k.body;
    EXPECT_FALSE(f.needs_settings) << "the settings are fine; the next poll tries again";
    EXPECT_TRUE(f.data.is_null());
    EXPECT_EQ(f.error, k.error);
  }
}

TEST(BoardFetchTest, AFaultInsideAFetchIsAnErrorNotAnException) {
  test::FakeClock clock;
  test::FakeHttps https;
  https.respond = [](const std::string&) -> platform::HttpsResponse { throw std::runtime_error("simulated fault"); };
  TrackerEnv env{clock, https};
  std::string flavour;
  BoardFetch f;
  ASSERT_NO_THROW(f = fetch_board(azure_board(), env, flavour));
  EXPECT_FALSE(f.ok);
  EXPECT_EQ(f.error, "the fetch stopped inside the agent: simulated fault");
}

TEST(BoardFetchTest, AzureDevOpsRequestsSuppressTheSignInRedirect) {
  test::FakeClock clock;
  test::FakeHttps https;
  https.respond = [](const std::string&) { return test::json_answer(200, kTwoBuilds); };
  TrackerEnv env{clock, https};
  std::string flavour;
  ASSERT_TRUE(fetch_board(azure_board(), env, flavour).ok);
  ASSERT_EQ(https.requests.size(), 1u);
  bool suppressed = false;
  for (const auto& h : https.requests[0].headers) suppressed = suppressed || (h.first == "X-TFS-FedAuthRedirect" && h.second == "Suppress");
  EXPECT_TRUE(suppressed);
}

// A service principal's board: the token from Entra ID is kept between polls; when Azure DevOps
// refuses the kept one (401), one new token is asked for in the same poll; a refused sign-in
// waits for new settings, an unreachable one is retried.
TEST(BoardFetchTest, AServicePrincipalsBoardUsesTheKeptTokenAndReplacesARefusedOneOnce) {
  test::FakeClock clock;
  test::FakeHttps https;
  int issued = 0;
  std::string accepted = "Bearer tok-1";
  https.respond_post = [&](const std::string&, const std::string&) {
    return test::json_answer(200, R"({"token_type":"Bearer","expires_in":3599,"access_token":"tok-)" + std::to_string(++issued) + "\"}");
  };
  https.respond = [&](const std::string&) {
    const auto& h = https.requests.back().headers;
    if (h.empty() || h.front().second != accepted) {
      platform::HttpsResponse r = test::json_answer(200, R"({"message":"TF400813: The user '' is not authorized to access this resource."})");
      r.status = 401;
      return r;
    }
    return test::json_answer(200, kTwoBuilds);
  };
  Connection c = azure_board();
  c.auth = "service-principal";
  c.token.clear();
  c.tenant_id = "72f988bf-86f1-41af-91ab-2d7cd011db47";
  c.client_id = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
  c.client_secret = "s3cr3t";
  SigninContext signin;
  TrackerEnv env{clock, https, 20000, nullptr, &signin};
  std::string flavour;
  ASSERT_TRUE(fetch_board(c, env, flavour).ok);
  ASSERT_TRUE(fetch_board(c, env, flavour).ok);
  EXPECT_EQ(issued, 1) << "the kept token was not used";
  accepted = "Bearer tok-2";  // tok-1 was revoked
  BoardFetch f = fetch_board(c, env, flavour);
  EXPECT_TRUE(f.ok) << f.error;
  EXPECT_EQ(issued, 2);
  accepted = "never";
  f = fetch_board(c, env, flavour);
  EXPECT_FALSE(f.ok);
  EXPECT_TRUE(f.needs_settings);
  EXPECT_EQ(issued, 3) << "one new token per poll, not a loop";

  https.respond_post = [&](const std::string&, const std::string&) {
    platform::HttpsResponse r = test::json_answer(200, 
        R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]})");
    r.status = 401;
    return r;
  };
  c.client_secret = "wrong";  // other settings: no kept token
  f = fetch_board(c, env, flavour);
  EXPECT_FALSE(f.ok);
  EXPECT_TRUE(f.needs_settings);
  EXPECT_NE(f.error.find("AADSTS7000215"), std::string::npos) << f.error;
  EXPECT_EQ(f.error.find("wrong"), std::string::npos);
  https.respond_post = [&](const std::string&, const std::string&) {
    platform::HttpsResponse r = test::json_answer(200, R"({"error":"temporarily_unavailable","error_description":"AADSTS90033: busy"})");
    r.status = 503;
    return r;
  };
  c.client_secret = "other";
  f = fetch_board(c, env, flavour);
  EXPECT_FALSE(f.ok);
  EXPECT_FALSE(f.needs_settings) << "a busy sign-in service is retried";
}

}  // namespace
}  // namespace tracklight::firmware
