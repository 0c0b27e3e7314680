// Test against fake Jira and Azure DevOps servers over real TLS: every check's pass and fail
// path, every certificate failure by name, deadlines, redirects. The agent side is the product
// code (firmware checks + platform mbedTLS client), run in-process.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "firmware/checks/tester.hpp"
#include "firmware/monitor/monitor.hpp"
#include "tests/support/fakes.hpp"
#include "platform/crypto.hpp"
#include "platform/log.hpp"
#include "tests/integration/tracker_fixture.hpp"

namespace tracklight::test {
namespace {

using firmware::Connection;
using firmware::Report;
using nlohmann::json;

TEST_F(TrackerTest, JiraCloudAllChecksPass) {
  FakeTracker fake(tmp.path(), jira_cloud());
  Report r = test(jira(fake.port()));
  EXPECT_TRUE(r.ok) << dump(r);
  EXPECT_EQ(r.status, "authorized");
  for (const char* id : {"fields", "clock", "dns", "tcp", "tls", "server", "sign-in", "user", "permissions"}) {
    ASSERT_NE(check(r, id), nullptr) << id << dump(r);
    EXPECT_EQ(check(r, id)->result, "pass") << id;
  }
  // A server that offers every version gets TLS 1.3: it is offered first.
  EXPECT_NE(check(r, "tls")->message.find("TLSv1.3"), std::string::npos) << check(r, "tls")->message;
  EXPECT_EQ(r.server["deployment"], "Cloud");
  EXPECT_EQ(r.user["email"], kEmail);
  // One TLS connection served every request of the Test (keep-alive).
  auto requests = fake.requests();
  ASSERT_EQ(requests.size(), 3u);
  for (const auto& req : requests) EXPECT_EQ(req["client_port"], requests[0]["client_port"]);
  // The same Test when every answer comes in chunked transfer coding.
  json chunked = jira_cloud();
  chunked["chunked"] = true;
  fake.set(chunked);
  Report again = test(jira(fake.port()));
  EXPECT_TRUE(again.ok) << dump(again);
  EXPECT_EQ(again.user["email"], kEmail);
}

TEST_F(TrackerTest, JiraWrongTokenIsNotAuthorizedWithTheFix) {
  json s = jira_cloud();
  s["expected_authorization"] = "Basic something-else";
  FakeTracker fake(tmp.path(), s);
  Report r = test(jira(fake.port()));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.status, "not-authorized");
  ASSERT_NE(check(r, "sign-in"), nullptr) << dump(r);
  EXPECT_EQ(check(r, "sign-in")->result, "fail");
  EXPECT_NE(check(r, "sign-in")->hint.find("API token"), std::string::npos);
  EXPECT_EQ(check(r, "permissions"), nullptr);  // later checks are meaningless
  EXPECT_EQ(dump(r).find(kToken), std::string::npos);
}

TEST_F(TrackerTest, JiraCaptchaLockoutSaysToLogInInABrowser) {
  json s = jira_cloud();
  s["captcha"] = true;
  FakeTracker fake(tmp.path(), s);
  Report r = test(jira(fake.port()));
  EXPECT_EQ(r.status, "not-authorized");
  EXPECT_NE(check(r, "sign-in")->message.find("CAPTCHA"), std::string::npos);
  EXPECT_NE(check(r, "sign-in")->hint.find("https://jira.example/login.jsp"), std::string::npos);
}

TEST_F(TrackerTest, JiraMissingPermissionsAreNamed) {
  json s = jira_cloud();
  s["permissions"] = {{"CREATE_ISSUES", false}, {"TRANSITION_ISSUES", false}};
  FakeTracker fake(tmp.path(), s);
  Report r = test(jira(fake.port()));
  EXPECT_FALSE(r.ok);
  ASSERT_NE(check(r, "permissions"), nullptr);
  EXPECT_EQ(check(r, "permissions")->message, "Missing permissions: Create issues, Transition issues");
}

TEST_F(TrackerTest, JiraUserMismatchAndHiddenEmail) {
  json s = jira_cloud();
  s["user"]["email"] = "someone.else@example.com";
  FakeTracker fake(tmp.path(), s);
  Report r = test(jira(fake.port()));
  EXPECT_EQ(check(r, "user")->result, "fail");
  EXPECT_NE(check(r, "user")->message.find("someone.else@example.com"), std::string::npos);
  s["user"]["email"] = nullptr;  // privacy setting hides it
  fake.set(s);
  r = test(jira(fake.port()));
  EXPECT_EQ(check(r, "user")->result, "warn");
  EXPECT_TRUE(r.ok);
}

TEST_F(TrackerTest, JiraDataCenterPatIsSentAsBearerAndVersionIsChecked) {
  json s = {{"personality", "jira-dc"}, {"version", "9.12.2"}, {"expected_authorization", std::string("Bearer ") + kToken},
            {"user", {{"name", "mia"}}}, {"base_path", "/jira"}};
  FakeTracker fake(tmp.path(), s);
  Connection c = jira(fake.port());
  c.server_url += "/jira";
  c.auth = "pat";
  c.token = kToken;
  c.api_key.clear();
  c.username = "mia";
  Report r = test(c);
  EXPECT_TRUE(r.ok) << dump(r);
  EXPECT_EQ(r.server["deployment"], "Server/Data Center");
  s["version"] = "8.5.5";
  fake.set(s);
  r = test(c);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(check(r, "auth-method")->message.find("8.14"), std::string::npos) << dump(r);
}

// A serverInfo refused before sign-in (anonymous access off, an SSO proxy) tells nothing about
// the deployment; the Test must not warn that API tokens are for Jira Cloud.
TEST_F(TrackerTest, JiraRefusedServerInfoSaysNothingAboutTheAuthMethod) {
  for (int status : {401, 403}) {
    json s = jira_cloud();
    s["overrides"]["/rest/api/2/serverInfo"] = {{"status", status}, {"body", {{"errorMessages", {"Not allowed"}}}}};
    FakeTracker fake(tmp.path(), s);
    Report r = test(jira(fake.port()));  // an API token: right for Cloud, which serverInfo did not say
    EXPECT_TRUE(r.ok) << status << dump(r);
    EXPECT_EQ(check(r, "auth-method"), nullptr) << status << dump(r);
  }
}

TEST_F(TrackerTest, JiraTokenExpiry) {
  FakeTracker fake(tmp.path(), jira_cloud());
  Connection c = jira(fake.port());
  c.token_expires = "2020-01-01";
  Report r = test(c);
  EXPECT_EQ(r.status, "not-authorized");
  EXPECT_EQ(check(r, "token-expiry")->result, "fail");
  std::time_t soon = std::time(nullptr) + 5 * 86400;
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", std::gmtime(&soon));
  c.token_expires = buf;
  r = test(c);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(check(r, "token-expiry")->result, "warn");
}

TEST_F(TrackerTest, JiraWrongBasePathAndServerErrors) {
  FakeTracker fake(tmp.path(), jira_cloud());
  Connection c = jira(fake.port());
  c.server_url += "/wrong";
  Report r = test(c);
  EXPECT_NE(check(r, "server")->message.find("No Jira REST API"), std::string::npos) << dump(r);
  json s = jira_cloud();
  s["overrides"]["/rest/api/2/myself"] = {{"status", 503}, {"headers", {{"Retry-After", "30"}}}, {"body", "busy"}};
  fake.set(s);
  r = test(jira(fake.port()));
  EXPECT_EQ(r.status, "interrupted");
  EXPECT_NE(check(r, "sign-in")->message.find("503"), std::string::npos);
  EXPECT_NE(check(r, "sign-in")->message.find("30 s"), std::string::npos);
}

TEST_F(TrackerTest, RedirectToAnotherHostGetsNoCredentials) {
  FakeTracker elsewhere(tmp.path(), jira_cloud(), "noip");
  json s = jira_cloud();
  s["overrides"]["/rest/api/2/serverInfo"] = {
      {"status", 302}, {"headers", {{"Location", "https://127.0.0.1:" + std::to_string(elsewhere.port()) + "/rest/api/2/serverInfo"}}}};
  FakeTracker fake(tmp.path(), s);
  Report r = test(jira(fake.port()));
  EXPECT_FALSE(r.ok);
  EXPECT_NE(check(r, "server")->message.find("redirects to https://127.0.0.1"), std::string::npos) << dump(r);
  EXPECT_TRUE(elsewhere.requests().empty());
}

TEST_F(TrackerTest, AzureDevOpsAllChecksPassAndProjectIsDetected) {
  json s = ado();
  FakeTracker fake(tmp.path(), s);
  Connection c = azure(fake.port());
  c.use_for_tfvc = true;
  Report r = test(c);
  EXPECT_TRUE(r.ok) << dump(r);
  EXPECT_EQ(r.detected_project, "Fiber");
  for (const char* id : {"url", "sign-in", "project", "builds", "tfvc"}) EXPECT_EQ(check(r, id)->result, "pass") << id;
  EXPECT_NE(check(r, "url")->message.find("/tfs/DefaultCollection"), std::string::npos);
  // A collection already in the URL is recognised, not doubled.
  c.server_url += "/DefaultCollection";
  EXPECT_TRUE(test(c).ok);
  for (const auto& req : fake.requests()) EXPECT_EQ(req["path"].get<std::string>().find("DefaultCollection/DefaultCollection"), std::string::npos);
  // Every request, not only connectionData, asks for a 401 instead of a sign-in redirect.
  c.project = "Fiber";
  EXPECT_TRUE(test(c).ok);
  ASSERT_EQ(fake.requests().size(), 12u);
  for (const auto& req : fake.requests())
    EXPECT_EQ(req["custom"].value("X-TFS-FedAuthRedirect", ""), "Suppress") << req["path"];
}

// The project list comes in pages (x-ms-continuationtoken). Reading only the first one reported
// a project on page 2 as missing, and picked the one project of page 1 as "the only one".
TEST_F(TrackerTest, AzureDevOpsProjectsArePagedAndANamedOneIsLookedUpDirectly) {
  json s = ado();
  s["projects"] = {"Copper", "Fiber"};
  s["projects_page_size"] = 1;  // the server's own cap on a page
  FakeTracker fake(tmp.path(), s);
  Connection c = azure(fake.port());
  Report r = test(c);
  EXPECT_EQ(check(r, "project")->message, "The token sees several projects: Copper, Fiber") << dump(r);
  EXPECT_EQ(r.status, "invalid");
  std::vector<std::string> pages;
  for (const auto& req : fake.requests())
    if (req["path"].get<std::string>().find("/_apis/projects?") != std::string::npos) pages.push_back(req["path"]);
  ASSERT_EQ(pages.size(), 2u);
  EXPECT_NE(pages[1].find("&continuationToken=1"), std::string::npos) << pages[1];

  // A named project on the second page is found by one direct lookup, in the server's spelling.
  const size_t before = fake.requests().size();
  c.project = "fiber";
  r = test(c);
  EXPECT_TRUE(r.ok) << dump(r);
  EXPECT_EQ(check(r, "project")->message, "Project Fiber found");
  std::vector<std::string> paths;
  for (size_t i = before; i < fake.requests().size(); ++i) paths.push_back(fake.requests()[i]["path"]);
  ASSERT_EQ(paths.size(), 3u);  // connectionData, the project, builds
  EXPECT_EQ(paths[1], "/tfs/DefaultCollection/_apis/projects/fiber?api-version=7.1");
}

TEST_F(TrackerTest, AzureDevOpsBadPatInEveryDisguise) {
  for (const char* mode : {"401", "203", "302", "anonymous"}) {
    json s = ado();
    s["expected_authorization"] = "Basic OnNvbWV0aGluZy1lbHNl";
    s["bad_pat"] = mode;
    FakeTracker fake(tmp.path(), s);
    Report r = test(azure(fake.port()));
    EXPECT_FALSE(r.ok) << mode;
    EXPECT_EQ(r.status, "not-authorized") << mode << dump(r);
    EXPECT_EQ(check(r, "sign-in")->result, "fail") << mode;
  }
  json s = ado();
  s["expected_authorization"] = "Basic OnNvbWV0aGluZy1lbHNl";
  s["bad_pat_message"] = "Access Denied: The Personal Access Token used has expired.";
  FakeTracker fake(tmp.path(), s);
  EXPECT_EQ(check(test(azure(fake.port())), "sign-in")->message, "The personal access token has expired");
}

TEST_F(TrackerTest, AzureDevOpsProjectsBuildsAndTfvcFailures) {
  json s = ado();
  s["projects"] = {"Fiber", "Copper"};
  FakeTracker fake(tmp.path(), s);
  Connection c = azure(fake.port());
  Report r = test(c);
  EXPECT_NE(check(r, "project")->message.find("Fiber, Copper"), std::string::npos) << dump(r);
  c.project = "Glass";
  EXPECT_NE(check(test(c), "project")->message.find("Glass was not found"), std::string::npos);
  c.project = "copper";
  s["builds_status"] = 403;
  fake.set(s);
  r = test(c);
  EXPECT_EQ(check(r, "project")->result, "pass");
  EXPECT_NE(check(r, "builds")->hint.find("Build (Read)"), std::string::npos) << dump(r);
  s["builds_status"] = 200;
  s["tfvc_status"] = 404;
  fake.set(s);
  c.use_for_tfvc = true;
  r = test(c);
  EXPECT_EQ(check(r, "tfvc")->result, "fail") << dump(r);
}

struct CertCase {
  const char* cert;
  const char* host;
  firmware::Check expect;  // id, result, message fragment, hint fragment
  const char* must_not_say = "";
};


TEST_F(TrackerTest, EachCertificateFailureIsNamedAndNoCredentialIsSent) {
  const std::string fingerprint = openssl_sha256_fingerprint(pki_dir() + "/selfsigned.pem");
  ASSERT_EQ(fingerprint.size(), 95u) << fingerprint;  // 32 hex pairs and 31 colons
  const std::string self_signed = "certificate (CN=localhost) is self-signed, SHA-256 fingerprint " + fingerprint;
  const CertCase cases[] = {
      {"expired", "localhost", {"tls", "fail", "expired on 2020-01-02", "", 0, {}}},
      {"future", "localhost", {"tls", "fail", "not valid until 2099-01-01", "", 0, {}}},
      {"wronghost", "localhost", {"tls", "fail", "for other.example, not localhost", "", 0, {}}},
      {"selfsigned", "localhost", {"tls", "fail", self_signed, "paste the server's certificate into CA certificate", 0, {}},
       "not a trusted CA"},
      {"untrusted", "localhost", {"tls", "fail", "issued by CN=Some Other CA, which is not a trusted CA", "private CA", 0, {}},
       "incomplete"},
      {"nochain", "localhost",
       {"tls", "fail", "chain is incomplete: the certificate is issued by CN=tracklight test intermediate, which the server did not send",
        "configure the full certificate chain", 0, {}},
       "self-signed"},
      {"chain", "localhost", {"tls", "pass", "certificate for localhost", "", 0, {}}},
      {"noip", "127.0.0.1", {"tls", "fail", "not 127.0.0.1", "", 0, {}}},
      {"good", "127.0.0.1", {"tls", "pass", "TLSv1.", "", 0, {}}},
      // An iPAddress name of 5 bytes is never decoded as an address: mbedTLS 3.6 refuses the
      // whole certificate, and the report says the certificate is damaged.
      {"badip", "localhost", {"tls", "fail", "the server's certificate could not be read", "damaged", 0, {}}},
      {"badip", "127.0.0.1", {"tls", "fail", "the server's certificate could not be read", "damaged", 0, {}}},
  };
  for (const char* version : {"1.3", "1.2"})
  for (const auto& k : cases) {
    SCOPED_TRACE(std::string("TLS ") + version);
    FakeTracker fake(tmp.path(), jira_cloud(), k.cert, {"--tls-only", version});
    Report r = test(jira(fake.port(), k.host));
    const firmware::Check* tls = check(r, "tls");
    ASSERT_NE(tls, nullptr) << k.cert << dump(r);
    EXPECT_EQ(tls->result, k.expect.result) << k.cert << dump(r);
    EXPECT_NE(tls->message.find(k.expect.message), std::string::npos) << k.cert << ": " << tls->message;
    EXPECT_NE(tls->hint.find(k.expect.hint), std::string::npos) << k.cert << ": " << tls->hint;
    if (*k.must_not_say) {
      EXPECT_EQ(tls->message.find(k.must_not_say), std::string::npos) << k.cert << ": " << tls->message;
    }
    if (tls->result == "fail") {
      EXPECT_EQ(r.status, "interrupted") << "a certificate problem is not a credential problem";
      EXPECT_NE(tls->hint.find("Credentials were not sent"), std::string::npos) << k.cert;
      EXPECT_EQ(fake.with_authorization(), 0u) << k.cert;
    }
  }
}

// What the self-signed hint says to do works: the server's own certificate as the CA certificate.
TEST_F(TrackerTest, SelfSignedCertificatePastedAsTheCaCertificateIsTrusted) {
  FakeTracker fake(tmp.path(), jira_cloud(), "selfsigned");
  Connection c = jira(fake.port());
  c.ca_cert = read_text(pki_dir() + "/selfsigned.pem");
  Report r = test(c);
  EXPECT_TRUE(r.ok) << dump(r);
  EXPECT_EQ(check(r, "tls")->result, "pass") << dump(r);
}

// TLS 1.3 and 1.2 servers pass, and the report names the version and the cipher suite; older
// servers are refused by name before any credential is sent.
TEST_F(TrackerTest, TlsVersionMatrix) {
  struct Case {
    const char* only;
    const char* result;
    const char* says;
  };
  const Case cases[] = {
      {"1.3", "pass", "TLSv1.3 (TLS1-3-"},
      {"1.2", "pass", "TLSv1.2 (TLS-ECDHE-RSA-WITH-"},
      {"1.1", "fail", "offers only TLS older than 1.2"},
      {"1.0", "fail", "offers only TLS older than 1.2"},
  };
  for (const auto& k : cases) {
    FakeTracker fake(tmp.path(), jira_cloud(), "good", {"--tls-only", k.only});
    Report r = test(jira(fake.port()));
    const firmware::Check* tls = check(r, "tls");
    ASSERT_NE(tls, nullptr) << k.only << dump(r);
    EXPECT_EQ(tls->result, k.result) << k.only << dump(r);
    EXPECT_NE(tls->message.find(k.says), std::string::npos) << k.only << ": " << tls->message;
    if (std::string(k.result) == "fail") {
      EXPECT_NE(tls->hint.find("TLS 1.2 or newer"), std::string::npos) << k.only << ": " << tls->hint;
      EXPECT_EQ(fake.with_authorization(), 0u) << k.only;
    }
  }
}

// The server name goes out (SNI) for a host name and never for an address (RFC 6066 section 3).
TEST_F(TrackerTest, ServerNameIsSentForHostNamesOnly) {
  FakeTracker fake(tmp.path(), jira_cloud());
  for (const char* host : {"localhost", "127.0.0.1"}) {
    Report r = test(jira(fake.port(), host));
    ASSERT_TRUE(r.ok) << host << dump(r);
  }
  const auto reqs = fake.requests();
  ASSERT_FALSE(reqs.empty());
  size_t named = 0, unnamed = 0;
  for (const auto& q : reqs) {
    if (q["sni"].is_null()) ++unnamed;
    else if (q["sni"] == "localhost") ++named;
  }
  EXPECT_GT(named, 0u);
  EXPECT_GT(unnamed, 0u);
  EXPECT_EQ(named + unnamed, reqs.size()) << "a name other than localhost was sent";
}

// Each certificate key type, key-exchange group and cipher family the agent is built with works
// over both versions (a HelloRetryRequest included); what it is not built with is refused by name,
// with what it does speak, before any credential is sent.
TEST_F(TrackerTest, TlsParameterMatrix) {
  struct Case {
    const char* cert;
    std::vector<std::string> server;
    const char* result;
    const char* says;
  };
  const Case cases[] = {
      {"ec256", {"--tls-only", "1.3"}, "pass", "TLSv1.3"},
      {"ec256", {"--tls-only", "1.2"}, "pass", "TLS-ECDHE-ECDSA-WITH-"},
      {"ec384", {"--tls-only", "1.3"}, "pass", "TLSv1.3"},
      {"ec384", {"--tls-only", "1.2"}, "pass", "TLS-ECDHE-ECDSA-WITH-"},
      // x25519 is offered first: a server that wants P-384 asks for it (HelloRetryRequest).
      {"good", {"--tls-only", "1.3", "--group", "secp384r1"}, "pass", "TLSv1.3"},
      {"good", {"--tls-only", "1.2", "--group", "secp384r1"}, "pass", "TLSv1.2"},
      {"good", {"--tls-only", "1.2", "--ciphers", "ECDHE-RSA-CHACHA20-POLY1305"}, "pass", "CHACHA20-POLY1305"},
      {"good", {"--tls-only", "1.2", "--ciphers", "ECDHE-RSA-AES128-GCM-SHA256"}, "pass", "AES-128-GCM"},
      {"good", {"--group", "secp521r1"}, "fail", "no TLS settings in common (the server answered handshake_failure)"},
      {"ed25519", {}, "fail", "no TLS settings in common (the server answered handshake_failure)"},
      {"ec521", {"--tls-only", "1.2"}, "fail", "no TLS settings in common"},
      // Static RSA key exchange (no forward secrecy) is not built in.
      {"good", {"--tls-only", "1.2", "--ciphers", "AES128-GCM-SHA256"}, "fail", "no TLS settings in common"},
  };
  for (const auto& k : cases) {
    std::string what = std::string(k.cert);
    for (const auto& a : k.server) what += " " + a;
    FakeTracker fake(tmp.path(), jira_cloud(), k.cert, k.server);
    Report r = test(jira(fake.port()));
    const firmware::Check* tls = check(r, "tls");
    ASSERT_NE(tls, nullptr) << what << dump(r);
    EXPECT_EQ(tls->result, k.result) << what << dump(r);
    EXPECT_NE(tls->message.find(k.says), std::string::npos) << what << ": " << tls->message;
    if (std::string(k.result) == "fail") {
      EXPECT_NE(tls->hint.find("x25519, P-256 or P-384"), std::string::npos) << what << ": " << tls->hint;
      EXPECT_EQ(fake.with_authorization(), 0u) << what;
    }
  }
}

TEST_F(TrackerTest, DeadlinesNameTheStepThatRanOutOfTime) {
  // Accepts the TCP connection (the kernel does) and never says a word.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  auto t0 = std::chrono::steady_clock::now();
  Report r = test(jira(ntohs(a.sin_port)), 1500);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  close(fd);
  EXPECT_NE(check(r, "tls")->message.find("timed out during TLS handshake"), std::string::npos) << dump(r);
  EXPECT_LT(took, 5000);
  // Answers the handshake, then never the HTTP request.
  json s = jira_cloud();
  s["hang"] = 30;
  FakeTracker fake(tmp.path(), s);
  r = test(jira(fake.port()), 1500);
  EXPECT_EQ(r.status, "interrupted");
  EXPECT_NE(check(r, "server")->message.find(
                "timed out waiting for the status line of the answer to GET /rest/api/2/serverInfo from localhost"),
            std::string::npos)
      << dump(r);
}

TEST_F(TrackerTest, TestThroughAnAuthenticatingProxy) {
  Tinyproxy proxy(tmp.path(), "proxyuser", "CANARY-PROXY-PASS-5a");
  ASSERT_GT(proxy.port(), 0) << read_text(tmp.path() + "/tinyproxy.log");
  FakeTracker fake(tmp.path(), jira_cloud());
  Connection c = jira(fake.port());
  c.proxy_url = "http://127.0.0.1:" + std::to_string(proxy.port());
  c.proxy_username = "proxyuser";
  c.proxy_password = "CANARY-PROXY-PASS-5a";
  Report r = test(c);
  EXPECT_TRUE(r.ok) << dump(r);
  EXPECT_NE(check(r, "tcp")->message.find("through the proxy 127.0.0.1"), std::string::npos);
  ASSERT_FALSE(fake.requests().empty());
  for (const auto& req : fake.requests()) EXPECT_FALSE(req["proxy_authorization"].get<bool>()) << "proxy credentials reached the server";

  c.proxy_password = "wrong";
  r = test(c);
  EXPECT_EQ(check(r, "tcp")->result, "fail") << dump(r);
  EXPECT_NE(check(r, "tcp")->message.find("refused the proxy user name or password"), std::string::npos) << dump(r);
  EXPECT_NE(check(r, "tcp")->hint.find("Proxy Password"), std::string::npos);
  c.proxy_username.clear();
  c.proxy_password.clear();
  EXPECT_NE(check(test(c), "tcp")->message.find("requires a user name and password"), std::string::npos);
  c.proxy_url = "http://127.0.0.1:1";
  EXPECT_NE(check(test(c, 3000), "tcp")->message.find("proxy 127.0.0.1"), std::string::npos);
}

TEST_F(TrackerTest, NetworkFailuresAreNamed) {
  Connection c = jira(1);  // nothing listens on port 1
  Report r = test(c, 3000);
  EXPECT_EQ(check(r, "tcp")->result, "fail") << dump(r);
  EXPECT_NE(check(r, "tcp")->message.find("refused"), std::string::npos);
  // A DNS failure is reported from the connector's error (tests/unit/checks_test.cpp): a test
  // here would depend on the machine's resolver and its time-outs.
}

}  // namespace
}  // namespace tracklight::test

namespace tracklight::test {
namespace {

// The monitor with the real mbedTLS client against the fake Jira; a fake clock decides when
// checks are due, so nothing sleeps.
TEST_F(TrackerTest, MonitorStatusFollowsTheServerWithoutARetryStorm) {
  FakeTracker fake(tmp.path(), jira_cloud());
  FakeClock fake_clock;
  platform::MbedtlsConnector fake_time_https(fake_clock);  // deadlines are measured on the same clock
  platform::MemoryLogger log;
  firmware::Monitor monitor(fake_clock, fake_time_https, log, 15000);
  Connection c = jira(fake.port());
  c.saved_status = "authorized";
  monitor.sync({c}, true);
  firmware::ConnectionHealth h0;
  auto step = [&](int64_t ms) {
    fake_clock.now_ms += ms;
    monitor.tick();
    firmware::ConnectionHealth h;
    monitor.health("jira", h);
    return h;
  };
  h0 = step(6000);
  EXPECT_EQ(h0.status, "authorized") << h0.last_error;
  json s = jira_cloud();
  s["overrides"]["/rest/api/2/myself"] = {{"status", 503}, {"body", "maintenance"}};
  fake.set(s);
  firmware::ConnectionHealth h = step(331000);
  EXPECT_EQ(h.status, "interrupted");
  EXPECT_NE(h.last_error.find("503"), std::string::npos);
  EXPECT_EQ(step(11000).status, "interrupted");  // first retry after ~10 s
  fake.set(jira_cloud());
  EXPECT_EQ(step(23000).status, "authorized");  // second retry after ~20 s, and recovered
  s = jira_cloud();
  s["expected_authorization"] = "Basic revoked";
  fake.set(s);
  EXPECT_EQ(step(331000).status, "not-authorized");
  const size_t requests = fake.requests().size();
  for (int i = 0; i < 50; ++i) step(600000);  // more than eight hours
  EXPECT_EQ(fake.requests().size(), requests) << "a refused credential was retried";
  size_t changes = 0;
  for (const auto& line : log.lines()) changes += line.find("monitor:") != std::string::npos;
  EXPECT_EQ(changes, 3u);  // authorized -> interrupted -> authorized -> not-authorized
}

}  // namespace
}  // namespace tracklight::test
