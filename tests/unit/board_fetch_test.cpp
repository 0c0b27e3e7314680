// A board fetch against a scripted tracker: answers of the wrong type, and pipeline names the
// person listed twice.
#include "firmware/board/board_fetch.hpp"

#include <gtest/gtest.h>

#include "tests/support/fakes.hpp"

namespace tracklight::firmware {
namespace {

using nlohmann::json;

platform::HttpsResponse json_answer(const std::string& body) {
  platform::HttpsResponse r;
  r.status = 200;
  r.headers = {{"Content-Type", "application/json"}};
  r.body = body;
  return r;
}

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
  https.respond = [](const std::string&) { return json_answer(kTwoBuilds); };
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
    https.respond = [&](const std::string&) { return json_answer(k.body); };
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
  https.respond = [](const std::string&) { return json_answer(kTwoBuilds); };
  TrackerEnv env{clock, https};
  std::string flavour;
  ASSERT_TRUE(fetch_board(azure_board(), env, flavour).ok);
  ASSERT_EQ(https.requests.size(), 1u);
  bool suppressed = false;
  for (const auto& h : https.requests[0].headers) suppressed = suppressed || (h.first == "X-TFS-FedAuthRedirect" && h.second == "Suppress");
  EXPECT_TRUE(suppressed);
}

}  // namespace
}  // namespace tracklight::firmware
