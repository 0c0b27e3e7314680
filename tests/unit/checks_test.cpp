// The Test checks with an in-memory HTTPS connector: what is sent, and URL handling.
#include <gtest/gtest.h>

#include <functional>
#include <stdexcept>

#include "firmware/checks/tester.hpp"
#include "platform/https_client.hpp"
#include "tests/support/fakes.hpp"

namespace tracklight::firmware {
namespace {

const std::string* header(const platform::HeaderList& h, const std::string& name) {
  for (const auto& kv : h)
    if (kv.first == name) return &kv.second;
  return nullptr;
}

Connection jira(const std::string& auth) {
  Connection c;
  c.id = "j";
  c.name = "J";
  c.provider = "jira";
  c.server_url = "https://jira.example/jira";
  c.auth = auth;
  c.username = auth == "pat" ? "" : "mia@example.com";
  c.api_key = "KEY";
  c.password = "PW";
  c.token = "TOKEN";
  c.headers = {{"X-Service-Token", "svc-secret"}};
  return c;
}

TEST(Checks, EveryRequestCarriesTheAuthMethodsHeaderAndTheCustomHeaders) {
  struct Case {
    std::string auth, expect;
  };
  for (const Case& k : {Case{"api-key", platform::basic_auth_value("mia@example.com", "KEY")},
                        Case{"password", platform::basic_auth_value("mia@example.com", "PW")},
                        Case{"pat", "Bearer TOKEN"}}) {
    test::FakeClock clock;
    test::FakeHttps https;
    https.respond = test::happy_jira_cloud;
    TrackerEnv env{clock, https};
    Report r = run_test(jira(k.auth), env);
    EXPECT_EQ(https.requests.size(), 3u) << k.auth;  // serverInfo, myself, mypermissions
    for (const auto& req : https.requests) {
      EXPECT_EQ(req.path.rfind("/jira/rest/api/2/", 0), 0u) << req.path;
      ASSERT_NE(header(req.headers, "Authorization"), nullptr);
      EXPECT_EQ(*header(req.headers, "Authorization"), k.expect);
      ASSERT_NE(header(req.headers, "X-Service-Token"), nullptr);
      EXPECT_EQ(*header(req.headers, "X-Service-Token"), "svc-secret");
    }
  }
}

// Each connector failure is reported as the step it stopped at, with that step's fix. (That no
// credential is sent before TLS passed is proven over real TLS: tracker_checks_test.cpp counts
// the Authorization headers the fake server saw for every certificate failure.)
TEST(Checks, ConnectionFailuresNameTheirStep) {
  struct Case {
    ErrorCode code;
    const char* op;
    const char* step;
    const char* hint;
  };
  const Case cases[] = {
      {ErrorCode::DnsFailed, "dns", "dns", "DNS"},
      {ErrorCode::ConnectRefused, "connect", "tcp", "port"},
      {ErrorCode::ProxyAuthRequired, "proxy", "tcp", "Proxy Password"},
      {ErrorCode::Timeout, "connect", "tcp", "did not answer"},
      {ErrorCode::Timeout, "TLS handshake", "tls", "stopped answering"},
      {ErrorCode::CertUntrusted, "TLS certificate", "tls", "Credentials were not sent"},
      {ErrorCode::CertExpired, "TLS certificate", "tls", "renew"},
  };
  for (const auto& k : cases) {
    test::FakeClock clock;
    test::FakeHttps https;
    https.fail_open = true;
    https.open_error = Error{k.code, k.op, 1, "it failed"};
    TrackerEnv env{clock, https};
    Report r = run_test(jira("api-key"), env);
    EXPECT_EQ(r.status, "interrupted") << k.step;
    EXPECT_EQ(r.checks.back().id, k.step) << k.op;
    EXPECT_EQ(r.checks.back().result, "fail");
    EXPECT_NE(r.checks.back().hint.find(k.hint), std::string::npos) << k.op << ": " << r.checks.back().hint;
  }
}

TEST(Checks, ClockNotSetIsSaidPlainly) {
  test::FakeClock clock;
  clock.wall_s = 1000;  // 1970: a board without a real-time clock before NTP
  test::FakeHttps https;
  TrackerEnv env{clock, https};
  Report r = run_test(jira("api-key"), env);
  EXPECT_EQ(r.checks.back().id, "clock");
  EXPECT_NE(r.checks.back().message.find("not set"), std::string::npos);
  EXPECT_TRUE(https.requests.empty());
}

TEST(Checks, AzureDevOpsUrlForms) {
  Connection c;
  c.provider = "azure-devops";
  std::string why;
  auto col = [&](const std::string& url, const std::string& collection = "") {
    c.server_url = url;
    c.collection = collection;
    return azure_collection_path(c, why);
  };
  EXPECT_EQ(col("https://dev.azure.com/fabrikam"), "/fabrikam");
  EXPECT_EQ(col("https://dev.azure.com/fabrikam/"), "/fabrikam");
  EXPECT_EQ(col("https://dev.azure.com/fabrikam/Fiber"), "/fabrikam");
  EXPECT_EQ(col("https://fabrikam.visualstudio.com"), "");
  EXPECT_EQ(col("https://fabrikam.visualstudio.com/DefaultCollection"), "/DefaultCollection");
  EXPECT_EQ(col("https://tfs.example/tfs"), "/tfs/DefaultCollection");
  EXPECT_EQ(col("https://tfs.example/tfs", "Main Coll"), "/tfs/Main%20Coll");
  EXPECT_EQ(col("https://tfs.example/tfs/DefaultCollection"), "/tfs/DefaultCollection");
  EXPECT_EQ(col("https://tfs.example:8443/tfs/defaultcollection/"), "/tfs/defaultcollection");
}

TEST(Checks, VerifyFalseChecksFieldsOnly) {
  test::FakeClock clock;
  test::FakeHttps https;
  TrackerEnv env{clock, https};
  Report r = run_test(jira("api-key"), env, /*network=*/false);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.status, "not-verified");
  EXPECT_TRUE(https.requests.empty());
}

Connection azure() {
  Connection c;
  c.id = "a";
  c.name = "A";
  c.provider = "azure-devops";
  c.server_url = "https://dev.azure.com/fabrikam";
  c.auth = "pat";
  c.token = "PAT";
  c.project = "Fiber";
  c.use_for_tfvc = true;
  return c;
}

// Every answer as the happy tracker gives it, except `body` for the request whose path holds `part`.
std::function<platform::HttpsResponse(const std::string&)> with_answer(
    platform::HttpsResponse (*happy)(const std::string&), std::string part, std::string body) {
  return [=](const std::string& path) {
    platform::HttpsResponse r = happy(path);
    if (path.find(part) != std::string::npos) r.body = body;
    return r;
  };
}

const Check* failed_check(const Report& r) {
  for (const auto& c : r.checks)
    if (c.result == "fail") return &c;
  return nullptr;
}

// A field of another type than the API documents (which made nlohmann::json throw, and the
// agent abort) is an unexpected answer naming the endpoint and the field.
TEST(Checks, AWrongTypeInAnyAnswerIsAnUnexpectedAnswerNamingEndpointAndField) {
  struct Case {
    bool jira;
    const char* part;
    const char* body;
    const char* check;
    const char* message;
  };
  const Case cases[] = {
      {true, "serverInfo", R"({"deploymentType":"Server","versionNumbers":["8"]})", "server",
       "Unexpected answer from GET /jira/rest/api/2/serverInfo: field versionNumbers[0] is a string, expected an integer"},
      {true, "serverInfo", R"({"deploymentType":{"x":1}})", "server",
       "Unexpected answer from GET /jira/rest/api/2/serverInfo: field deploymentType is an object, expected a string"},
      {true, "myself", R"({"displayName":5,"emailAddress":"mia@example.com"})", "sign-in",
       "Unexpected answer from GET /jira/rest/api/2/myself: field displayName is an integer, expected a string"},
      {true, "myself", R"(["mia"])", "sign-in",
       "Unexpected answer from GET /jira/rest/api/2/myself: the answer is an array, expected an object"},
      {true, "mypermissions", R"({"permissions":{"BROWSE_PROJECTS":{"havePermission":"yes"}}})", "permissions",
       "Unexpected answer from GET /jira/rest/api/2/mypermissions: field permissions.BROWSE_PROJECTS.havePermission is a "
       "string, expected true or false"},
      {true, "mypermissions", R"({"permissions":[]})", "permissions",
       "Unexpected answer from GET /jira/rest/api/2/mypermissions: field permissions is an array, expected an object"},
      {false, "connectionData", R"({"authenticatedUser":{"id":5}})", "sign-in",
       "Unexpected answer from GET /fabrikam/_apis/connectionData: field authenticatedUser.id is an integer, expected a string"},
      {false, "connectionData", R"({"authenticatedUser":"mia"})", "sign-in",
       "Unexpected answer from GET /fabrikam/_apis/connectionData: field authenticatedUser is a string, expected an object"},
      {false, "/_apis/projects/", R"({"name":["Fiber"]})", "project",
       "Unexpected answer from GET /fabrikam/_apis/projects/Fiber: field name is an array, expected a string"},
      {false, "/_apis/build/builds", R"({"value":{"id":7}})", "builds",
       "Unexpected answer from GET /fabrikam/Fiber/_apis/build/builds: field value is an object, expected an array"},
      {false, "/_apis/tfvc/", R"({"value":"none"})", "tfvc",
       "Unexpected answer from GET /fabrikam/Fiber/_apis/tfvc/changesets: field value is a string, expected an array"},
  };
  for (const Case& k : cases) {
    test::FakeClock clock;
    test::FakeHttps https;
    https.respond = with_answer(k.jira ? test::happy_jira_cloud : test::happy_azure, k.part, k.body);
    TrackerEnv env{clock, https};
    Report r;
    ASSERT_NO_THROW(r = run_test(k.jira ? jira("api-key") : azure(), env)) << k.body;
    EXPECT_EQ(r.status, "interrupted") << k.body;
    const Check* f = failed_check(r);
    ASSERT_NE(f, nullptr) << k.body;
    EXPECT_EQ(f->id, k.check) << k.body;
    EXPECT_EQ(f->message, k.message);
    EXPECT_NE(f->hint.find("Server URL"), std::string::npos);
  }
  // Auto-detect reads the project list: a list element of another type is named as well.
  test::FakeClock clock;
  test::FakeHttps https;
  https.respond = with_answer(test::happy_azure, "/_apis/projects?", R"({"count":2,"value":[{"name":"Fiber"},{"name":false}]})");
  TrackerEnv env{clock, https};
  Connection detect = azure();
  detect.project.clear();
  Report r = run_test(detect, env);
  EXPECT_EQ(r.status, "interrupted");
  ASSERT_NE(failed_check(r), nullptr);
  EXPECT_EQ(failed_check(r)->message,
            "Unexpected answer from GET /fabrikam/_apis/projects: field value[1].name is a boolean, expected a string");
}

// Whatever goes wrong inside a Test, whoever runs it (an HTTP worker, the monitor thread,
// `tracklight test`) gets a report back instead of an exception.
TEST(Checks, AFaultInsideATestIsAReportNotAnException) {
  test::FakeClock clock;
  test::FakeHttps https;
  https.respond = [](const std::string&) -> platform::HttpsResponse { throw std::runtime_error("simulated fault"); };
  TrackerEnv env{clock, https};
  Report r;
  ASSERT_NO_THROW(r = run_test(jira("api-key"), env));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.status, "interrupted");
  ASSERT_FALSE(r.checks.empty());
  EXPECT_EQ(r.checks.back().id, "internal");
  EXPECT_EQ(r.checks.back().message, "The Test stopped inside the agent: simulated fault");
}

TEST(Checks, EveryAzureDevOpsRequestSuppressesTheSignInRedirect) {
  test::FakeClock clock;
  test::FakeHttps https;
  https.respond = test::happy_azure;
  TrackerEnv env{clock, https};
  Connection detect = azure();
  detect.project.clear();
  for (const Connection& c : {azure(), detect}) {
    Report r = run_test(c, env);
    EXPECT_TRUE(r.ok) << report_to_json(r).dump(1);
  }
  ASSERT_EQ(https.requests.size(), 8u);  // connectionData, project, builds, tfvc; then with the list
  for (const auto& req : https.requests) {
    const std::string* h = header(req.headers, "X-TFS-FedAuthRedirect");
    ASSERT_NE(h, nullptr) << req.path;
    EXPECT_EQ(*h, "Suppress") << req.path;
  }
  EXPECT_EQ(tracker_endpoint(jira("api-key")).headers.size(), 3u) << "Jira gets no Azure DevOps header";
}

// serverInfo may be refused before sign-in (an SSO proxy, anonymous access off): then the
// deployment is unknown, and nothing may be said about which auth method fits it.
TEST(Checks, ARefusedServerInfoDoesNotGuessTheDeployment) {
  for (int status : {401, 403}) {
    test::FakeClock clock;
    test::FakeHttps https;
    https.respond = [status](const std::string& path) {
      platform::HttpsResponse r = test::happy_jira_cloud(path);
      if (path.find("serverInfo") != std::string::npos) {
        r.status = status;
        r.body = R"({"errorMessages":["You are not authorized"]})";
      }
      return r;
    };
    TrackerEnv env{clock, https};
    Report r = run_test(jira("api-key"), env);
    EXPECT_TRUE(r.ok) << status << report_to_json(r).dump(1);
    for (const auto& c : r.checks) EXPECT_NE(c.id, "auth-method") << status << ": " << c.message;
    // myself still tells a Cloud account (accountId): the user is matched by email address.
    bool matched = false;
    for (const auto& c : r.checks) matched = matched || (c.id == "user" && c.result == "pass");
    EXPECT_TRUE(matched) << report_to_json(r).dump(1);
  }
}

}  // namespace
}  // namespace tracklight::firmware
