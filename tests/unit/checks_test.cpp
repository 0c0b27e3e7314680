// The Test checks with an in-memory HTTPS connector: what is sent, and URL handling.
#include <gtest/gtest.h>

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
    TestEnv env{clock, https};
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
    TestEnv env{clock, https};
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
  TestEnv env{clock, https};
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
  TestEnv env{clock, https};
  Report r = run_test(jira("api-key"), env, /*network=*/false);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.status, "not-verified");
  EXPECT_TRUE(https.requests.empty());
}

}  // namespace
}  // namespace tracklight::firmware
