// Sign-in through Microsoft Entra ID and managed identity, with an in-memory HTTPS connector:
// what is sent where, how tokens are kept and shared, and what each refusal tells the person.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <thread>

#include "firmware/checks/tester.hpp"
#include "firmware/model/connection_rules.hpp"
#include "firmware/signin/signin.hpp"
#include "firmware/signin/token_answer.hpp"
#include "tests/support/fakes.hpp"

namespace tracklight::firmware {
namespace {

const std::string kTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const std::string kClient = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

using test::json_answer;

Connection service_principal() {
  Connection c;
  c.id = "sp";
  c.name = "SP";
  c.provider = "azure-devops";
  c.server_url = "https://dev.azure.com/fabrikam";
  c.auth = "service-principal";
  c.tenant_id = kTenant;
  c.client_id = kClient;
  c.client_secret = "s3cr3t~value";
  c.project = "Fiber";
  return c;
}

const std::string* header(const platform::HeaderList& h, const std::string& name) {
  for (const auto& kv : h)
    if (kv.first == name) return &kv.second;
  return nullptr;
}

const Check* check(const Report& r, const std::string& id) {
  for (const auto& c : r.checks)
    if (c.id == id) return &c;
  return nullptr;
}

int count(const test::FakeHttps& https, const std::string& method) {
  int n = 0;
  for (const auto& q : https.requests) n += q.method == method;
  return n;
}

std::string entra_token(const std::string& token, int expires_in = 3599) {
  return R"({"token_type":"Bearer","expires_in":)" + std::to_string(expires_in) + R"(,"ext_expires_in":3599,"access_token":")" +
         token + "\"}";
}

std::string entra_error(const std::string& error, int code, const std::string& text) {
  return R"({"error":")" + error + R"(","error_description":"AADSTS)" + std::to_string(code) + ": " + text +
         R"(\r\nTrace ID: 0f6d\r\nCorrelation ID: 9a1b\r\nTimestamp: 2026-12-07 20:00:00Z","error_codes":[)" +
         std::to_string(code) + R"(],"timestamp":"2026-12-07 20:00:00Z","trace_id":"0f6d","correlation_id":"9a1b"})";
}

TEST(TokenAnswer, ReadsEntraImdsAndErrorShapes) {
  TokenAnswer a = read_token_answer(json_answer(200, entra_token("eyJ0", 3599)));
  EXPECT_TRUE(a.ok());
  EXPECT_EQ(a.access_token, "eyJ0");
  EXPECT_EQ(a.expires_in_s, 3599);
  // IMDS sends its numbers as strings.
  a = read_token_answer(json_answer(200, R"({"access_token":"eyJ1","expires_in":"86399","expires_on":"1796000000",)"
                                         R"("resource":"499b84ac-1321-427f-aa17-267ca6975798","token_type":"Bearer"})"));
  EXPECT_TRUE(a.ok());
  EXPECT_EQ(a.expires_in_s, 86399);
  a = read_token_answer(json_answer(401, entra_error("invalid_client", 7000215, "Invalid client secret provided.")));
  EXPECT_FALSE(a.ok());
  EXPECT_EQ(a.error, "invalid_client");
  EXPECT_EQ(a.error_code, 7000215);
  EXPECT_TRUE(a.unreadable.empty());
  // Without error_codes the number is read from the text.
  a = read_token_answer(json_answer(400, R"({"error":"invalid_request","error_description":"AADSTS90002: Tenant 'x' not found."})"));
  EXPECT_EQ(a.error_code, 90002);
  a = read_token_answer(json_answer(500, R"({"error":{"code":"ServiceUnavailable","message":"try later"}})"));
  EXPECT_EQ(a.error, "ServiceUnavailable");
  EXPECT_TRUE(a.unreadable.empty());
}

TEST(TokenAnswer, HostileTypesAndShapesAreNamedNotTrusted) {
  EXPECT_NE(read_token_answer(json_answer(200, R"({"access_token":42,"expires_in":3599})")).unreadable.find("access_token"),
            std::string::npos);
  EXPECT_NE(read_token_answer(json_answer(400, R"({"error":"x","error_codes":"7000215"})")).unreadable.find("error_codes"),
            std::string::npos);
  EXPECT_FALSE(read_token_answer(json_answer(200, R"(["access_token"])")).ok());
  EXPECT_FALSE(read_token_answer(json_answer(200, "<html>sign in</html>")).unreadable.empty());
  EXPECT_FALSE(read_token_answer(json_answer(200, R"({"expires_in":3599})")).ok());
  // Lifetimes beyond a year or negative are "not said", not trusted.
  EXPECT_EQ(read_token_answer(json_answer(200, R"({"access_token":"t","expires_in":-5})")).expires_in_s, 0);
  EXPECT_EQ(read_token_answer(json_answer(200, R"({"access_token":"t","expires_in":"99999999999"})")).expires_in_s, 0);
  EXPECT_EQ(read_token_answer(json_answer(200, R"({"access_token":"t","expires_in":"999999999"})")).expires_in_s, 86400);
  EXPECT_EQ(read_token_answer(json_answer(200, R"({"access_token":"t","expires_in":31536000})")).expires_in_s, 86400);
  // The token goes into a header line: anything but RFC 6750's characters is refused.
  for (const char* bad : {R"("a b")", R"("a
X-Evil: 1")", R"("=abc")", R"("ab=c")", R"("toké")"})
    EXPECT_FALSE(read_token_answer(json_answer(200, std::string(R"({"access_token":)") + bad + "}")).ok()) << bad;
  EXPECT_TRUE(read_token_answer(json_answer(200, R"({"access_token":"eyJ0.a-b_c~d+e/f=="})")).ok());
}

TEST(TokenAnswer, FormBodyEncodesEveryReservedCharacter) {
  EXPECT_EQ(form_body({{"a", "x y&z=+/~"}, {"scope", "499b/.default offline_access"}}),
            "a=x%20y%26z%3D%2B%2F~&scope=499b%2F.default%20offline_access");
}

// The token goes to Entra ID of the connection's tenant as a client-credentials grant, and the
// tracker gets it as Bearer; a second Test uses the kept token.
TEST(Signin, ServicePrincipalGetsATokenOnceAndSendsItAsBearer) {
  test::FakeClock clock;
  test::FakeHttps https;
  https.respond = test::happy_azure;
  https.respond_post = [](const std::string&, const std::string&) { return json_answer(200, entra_token("eyJ.sp.token")); };
  SigninContext signin;
  TrackerEnv env{clock, https, 20000, nullptr, &signin};
  Report r = run_test(service_principal(), env);
  ASSERT_TRUE(r.ok) << r.checks.back().message;
  ASSERT_NE(check(r, "signin"), nullptr);
  EXPECT_EQ(check(r, "signin")->result, "pass");
  ASSERT_EQ(count(https, "POST"), 1);
  const auto& post = https.requests.front();
  EXPECT_EQ(post.host, "login.microsoftonline.com");
  EXPECT_EQ(post.path, "/" + kTenant + "/oauth2/v2.0/token");
  EXPECT_NE(post.body.find("grant_type=client_credentials"), std::string::npos);
  EXPECT_NE(post.body.find("client_id=" + kClient), std::string::npos);
  EXPECT_NE(post.body.find("scope=499b84ac-1321-427f-aa17-267ca6975798%2F.default"), std::string::npos);
  EXPECT_NE(post.body.find("client_secret=s3cr3t~value"), std::string::npos);
  for (size_t i = 1; i < https.requests.size(); ++i) {
    ASSERT_NE(header(https.requests[i].headers, "Authorization"), nullptr);
    EXPECT_EQ(*header(https.requests[i].headers, "Authorization"), "Bearer eyJ.sp.token");
    EXPECT_EQ(https.requests[i].host, "dev.azure.com");
  }
  r = run_test(service_principal(), env);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(count(https, "POST"), 1) << "the kept token was not used";
  EXPECT_NE(check(r, "signin")->message.find("Using the token"), std::string::npos);
  // 5 minutes before it expires it is renewed.
  clock.now_ms += (3599 - 299) * 1000LL;
  EXPECT_TRUE(run_test(service_principal(), env).ok);
  EXPECT_EQ(count(https, "POST"), 2);
}

TEST(Signin, TheAuthorityHostAndProxyOfTheConnectionAreUsed) {
  test::FakeClock clock;
  test::FakeHttps https;
  https.respond = test::happy_azure;
  https.respond_post = [](const std::string&, const std::string&) { return json_answer(200, entra_token("t")); };
  Connection c = service_principal();
  c.authority_host = "https://login.microsoftonline.us/";
  c.proxy_url = "http://proxy.lan:3128";
  c.ca_cert = "";
  TrackerEnv env{clock, https, 20000};
  ASSERT_TRUE(run_test(c, env).ok);
  ASSERT_FALSE(https.opened.empty());
  EXPECT_EQ(https.opened.front().host, "login.microsoftonline.us");
  EXPECT_EQ(https.opened.front().proxy_host, "proxy.lan");
  EXPECT_EQ(https.opened.front().proxy_port, 3128);
}

TEST(Signin, EntraRefusalsAreNamedAndTheTrackerIsNotAsked) {
  struct Case {
    int status;
    std::string error;
    int code;
    std::string expect_message, expect_hint, expect_status;
  };
  const Case cases[] = {
      {401, "invalid_client", 7000215, "refused the client secret", "Certificates & secrets", "not-authorized"},
      {400, "unauthorized_client", 700016, "was not found in the tenant", "Application (client) ID", "not-authorized"},
      {400, "invalid_request", 90002, "tenant was not found", "Directory (tenant) ID", "not-authorized"},
      {400, "interaction_required", 50076, "multi-factor", "cannot answer an MFA prompt", "not-authorized"},
      {400, "interaction_required", 50079, "register for multi-factor", "Conditional Access", "not-authorized"},
      {400, "invalid_scope", 70011, "refused the sign-in: invalid_scope - AADSTS70011: bad scope", "Tenant Id", "not-authorized"},
      {503, "temporarily_unavailable", 90033, "HTTP 503", "retried", "interrupted"},
  };
  for (const Case& k : cases) {
    test::FakeClock clock;
    test::FakeHttps https;
    https.respond = test::happy_azure;
    https.respond_post = [&](const std::string&, const std::string&) {
      return json_answer(k.status, entra_error(k.error, k.code, k.code == 70011 ? "bad scope" : "text"));
    };
    TrackerEnv env{clock, https, 20000};
    Report r = run_test(service_principal(), env);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.status, k.expect_status) << k.code;
    const Check* s = check(r, "signin");
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->result, "fail");
    EXPECT_NE(s->message.find(k.expect_message), std::string::npos) << s->message;
    EXPECT_NE(s->hint.find(k.expect_hint), std::string::npos) << s->hint;
    EXPECT_EQ(s->message.find("s3cr3t"), std::string::npos);
    EXPECT_EQ(s->message.find("Trace ID"), std::string::npos) << "only the first line of Entra's text";
    EXPECT_EQ(count(https, "GET"), 0) << k.code;
  }
}

TEST(Signin, AnUnreachableAuthorityIsInterrupted) {
  test::FakeClock clock;
  test::FakeHttps https;
  https.fail_open = true;
  https.open_error = Error{ErrorCode::DnsFailed, "dns", 0, "login.microsoftonline.com: name not known"};
  TrackerEnv env{clock, https, 20000};
  Report r = run_test(service_principal(), env);
  EXPECT_EQ(r.status, "interrupted");
  ASSERT_NE(check(r, "signin"), nullptr);
  EXPECT_NE(check(r, "signin")->message.find("Could not reach Microsoft Entra ID"), std::string::npos);
}

TEST(Signin, AzureDevOpsRefusingTheIdentityNamesTheFix) {
  const std::pair<std::string, std::string> cases[] = {
      {"TF400813: The user 'aaaa' is not authorized to access this resource.", "Organization settings > Users"},
      {"TF401444: Sign-in at least once as 72f9\\\\72f9\\\\0f1e in a web browser to enable access to the service.",
       "Add the service principal"},
  };
  for (const auto& k : cases) {
    test::FakeClock clock;
    test::FakeHttps https;
    https.respond = [&](const std::string& path) {
      if (path.find("connectionData") == std::string::npos) return test::happy_azure(path);
      return json_answer(401, R"({"$id":"1","innerException":null,"message":")" + k.first +
                                  R"(","typeName":"Microsoft.TeamFoundation.Framework.Server.UnauthorizedRequestException","typeKey":"UnauthorizedRequestException","errorCode":0,"eventId":3000})");
    };
    https.respond_post = [](const std::string&, const std::string&) { return json_answer(200, entra_token("t")); };
    TrackerEnv env{clock, https, 20000};
    Report r = run_test(service_principal(), env);
    EXPECT_EQ(r.status, "not-authorized");
    const Check* s = check(r, "sign-in");
    ASSERT_NE(s, nullptr);
    EXPECT_NE(s->message.find(k.first.substr(0, 8)), std::string::npos) << s->message;
    EXPECT_NE(s->hint.find(k.second), std::string::npos) << s->hint;
    EXPECT_EQ(s->hint.find("personal access token"), std::string::npos);
  }
}

// A kept token the tracker refuses (revoked, or the identity was removed and added again) is
// replaced once; when the new one is refused too, the Test fails.
TEST(Signin, ARefusedKeptTokenIsReplacedOnce) {
  test::FakeClock clock;
  test::FakeHttps https;
  int issued = 0;
  std::string accepted = "token-1";
  https.respond_post = [&](const std::string&, const std::string&) { return json_answer(200, entra_token("token-" + std::to_string(++issued))); };
  https.respond = [&](const std::string& path) { return test::happy_azure(path); };
  SigninContext signin;
  TrackerEnv env{clock, https, 20000, nullptr, &signin};
  std::vector<std::string> seen;
  auto tracker = [&](const std::string& path) {
    const std::string& auth = https.requests.back().headers.front().second;
    if (path.find("connectionData") != std::string::npos && auth != "Bearer " + accepted)
      return json_answer(401, R"({"message":"TF400813: The user '' is not authorized to access this resource."})");
    return test::happy_azure(path);
  };
  https.respond = tracker;
  ASSERT_TRUE(run_test(service_principal(), env).ok);
  accepted = "token-2";  // token-1 was revoked
  Report r = run_test(service_principal(), env);
  EXPECT_TRUE(r.ok) << r.checks.back().message;
  EXPECT_EQ(issued, 2);
  accepted = "never";
  r = run_test(service_principal(), env);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(issued, 3) << "refused again: one new token, not a loop";
}

// Two users of one connection's settings at once (a Test and the monitor) make one request to
// the token endpoint; the second waits for it and shares its outcome, token or failure.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  void wait() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return open; });
  }
  void release() {
    {
      std::lock_guard<std::mutex> lock(mu);
      open = true;
    }
    cv.notify_all();
  }
};

// A fetch for `key` on its own thread, held inside the fetch until `gate` opens; returns once
// it is held.
std::thread held_fetch(AccessTokens& tokens, const std::string& key, Gate& gate) {
  auto started = std::make_shared<std::atomic<bool>>(false);
  std::thread t([&tokens, key, &gate, started] {
    bool cached;
    tokens.get(key, 0, 5000, "", cached, [&](const std::string&) {
      *started = true;
      gate.wait();
      return TokenFetch::token_of("held", 3600);
    });
  });
  while (!*started) std::this_thread::yield();
  return t;
}

// Runs two get() calls for one key, the second one started while the first one's fetch is held
// at `gate`, and released only once the second waits for it inside get().
std::pair<AccessTokens::Fetched, AccessTokens::Fetched> two_at_once(AccessTokens& tokens, Gate& gate,
                                                                    const AccessTokens::Fetch& fetch,
                                                                    bool cached[2]) {
  std::atomic<int> fetching{0};
  auto counted = [&](const std::string&) {
    fetching++;
    gate.wait();
    return fetch("");
  };
  AccessTokens::Fetched got[2];
  std::thread a([&] { got[0] = tokens.get("k", 1000, 5000, "", cached[0], counted); });
  while (fetching.load() == 0) std::this_thread::yield();
  std::thread b([&] { got[1] = tokens.get("k", 1000, 5000, "", cached[1], counted); });
  while (tokens.waiting() == 0) std::this_thread::yield();
  gate.release();
  a.join();
  b.join();
  EXPECT_EQ(fetching.load(), 1) << "the waiter fetched again";
  return {got[0], got[1]};
}

TEST(AccessTokens, ConcurrentUsersTriggerExactlyOneFetchAndShareItsToken) {
  AccessTokens tokens;
  Gate gate;
  bool cached[2] = {true, true};
  auto [first, second] = two_at_once(tokens, gate, [](const std::string&) { return TokenFetch::token_of("tok", 3600); }, cached);
  EXPECT_EQ(first.token, "tok");
  EXPECT_EQ(second.token, "tok");
  EXPECT_FALSE(cached[0]);
  EXPECT_FALSE(cached[1]) << "a token fetched during this call is not a kept one";
  bool from_cache = false;
  int fetches = 0;
  EXPECT_EQ(tokens.get("k", 2000, 0, "", from_cache, [&](const std::string&) { return ++fetches, AccessTokens::Fetched{}; }).token, "tok");
  EXPECT_TRUE(from_cache);
  EXPECT_EQ(fetches, 0);
}

TEST(AccessTokens, AWaiterSharesAFailureInsteadOfAskingAgain) {
  AccessTokens tokens;
  Gate gate;
  bool cached[2];
  auto [first, second] = two_at_once(
      tokens, gate, [](const std::string&) { return TokenFetch::failed("not-authorized", "refused the client secret", "fix"); },
      cached);
  EXPECT_FALSE(second.ok);
  EXPECT_EQ(second.message, "refused the client secret");
  EXPECT_EQ(second.status, "not-authorized");
}

// A refused token is replaced once, however many callers saw it refused.
TEST(AccessTokens, ARefusedTokenIsReplacedOnlyByTheFirstWhoSawIt) {
  AccessTokens tokens;
  int fetches = 0;
  auto fetch = [&](const std::string&) { return TokenFetch::token_of("tok-" + std::to_string(++fetches), 3600); };
  bool cached;
  EXPECT_EQ(tokens.get("k", 0, 0, "", cached, fetch).token, "tok-1");
  EXPECT_EQ(tokens.get("k", 0, 0, "tok-1", cached, fetch).token, "tok-2");   // the monitor saw tok-1 refused
  EXPECT_EQ(tokens.get("k", 0, 0, "tok-1", cached, fetch).token, "tok-2");   // so did the board: no third
  EXPECT_TRUE(cached);
  EXPECT_EQ(fetches, 2);
}

TEST(AccessTokens, AWaiterStopsAtItsDeadline) {
  AccessTokens tokens;
  Gate gate;
  std::thread a = held_fetch(tokens, "k", gate);
  bool cached;
  int fetches = 0;
  AccessTokens::Fetched f = tokens.get("k", 0, 50, "", cached, [&](const std::string&) { return ++fetches, AccessTokens::Fetched{}; });
  gate.release();
  a.join();
  EXPECT_FALSE(f.ok);
  EXPECT_EQ(f.status, "interrupted");
  EXPECT_EQ(fetches, 0);
}

TEST(AccessTokens, FailuresAreNotKeptAndTheCacheIsBoundedWithoutDroppingSlotsInUse) {
  AccessTokens tokens;
  int fetches = 0;
  bool cached;
  auto failing = [&](const std::string&) {
    fetches++;
    return AccessTokens::Fetched{};
  };
  EXPECT_FALSE(tokens.get("k", 0, 0, "", cached, failing).ok);
  EXPECT_FALSE(tokens.get("k", 0, 0, "", cached, failing).ok);
  EXPECT_EQ(fetches, 2);
  for (int i = 0; i < 200; ++i)
    tokens.get("key" + std::to_string(i), 0, 0, "", cached, [](const std::string&) { return TokenFetch::token_of("t", 3600); });
  EXPECT_LE(tokens.size(), AccessTokens::kMaxKept);
  // A slot whose fetch is running is not dropped to make room: a second fetch would start.
  Gate gate;
  std::thread busy = held_fetch(tokens, "busy", gate);
  for (int i = 0; i < 200; ++i)
    tokens.get("more" + std::to_string(i), 0, 0, "", cached, [](const std::string&) { return TokenFetch::token_of("t", 3600); });
  int again = 0;
  std::thread second([&] { tokens.get("busy", 0, 5000, "", cached, [&](const std::string&) { return ++again, AccessTokens::Fetched{}; }); });
  while (tokens.waiting() == 0) std::this_thread::yield();
  gate.release();
  busy.join();
  second.join();
  EXPECT_EQ(again, 0);
}

// An unsaved rotated refresh token may be the only valid one: it is never dropped to make room,
// and it is used only in place of the stored token it replaced.
TEST(AccessTokens, AnUnsavedRefreshTokenIsNeverEvictedAndOnlyReplacesItsOwnPredecessor) {
  AccessTokens tokens;
  bool cached;
  auto rotated = [](const std::string&) {
    TokenFetch f = TokenFetch::failed("interrupted", "the save failed", "");
    f.refresh_token = "rt-unsaved";
    return f;
  };
  tokens.get("signed-in", 0, 0, "", cached, rotated, "rt-stored");
  for (int i = 0; i < 300; ++i)
    tokens.get("key" + std::to_string(i), 0, 0, "", cached, [](const std::string&) { return TokenFetch::token_of("t", 3600); });
  std::string offered = "none";
  auto seen = [&](const std::string& newest) { return offered = newest, TokenFetch::token_of("t", 3600); };
  tokens.get("signed-in", 0, 0, "", cached, seen, "rt-stored");
  EXPECT_EQ(offered, "rt-unsaved") << "dropped to make room";
  tokens.get("signed-in", 0, 0, "t", cached, seen, "rt-other");
  EXPECT_EQ(offered, "") << "handed over in place of another stored token";
  EXPECT_EQ(tokens.unsaved_refresh("signed-in", "rt-stored", false), "rt-unsaved");
  EXPECT_EQ(tokens.unsaved_refresh("signed-in", "rt-stored", true), "rt-unsaved");
  EXPECT_EQ(tokens.unsaved_refresh("signed-in", "rt-stored", false), "") << "taken once saved";
}

// --- managed identity ------------------------------------------------------------------------

Connection managed(const std::string& client_id = "") {
  Connection c = service_principal();
  c.auth = "managed-identity";
  c.client_secret.clear();
  c.tenant_id.clear();
  c.client_id = client_id;
  return c;
}

TEST(ManagedIdentity, ImdsIsAskedOverItsLinkLocalAddressWithTheMetadataHeader) {
  test::FakeClock clock;
  test::FakeHttps https;
  https.respond = [](const std::string& path) {
    if (path.rfind("/metadata/identity/oauth2/token", 0) == 0)
      return json_answer(200, R"({"access_token":"mi.token","expires_in":"86399","expires_on":"1796000000","token_type":"Bearer"})");
    return test::happy_azure(path);
  };
  SigninContext signin;
  TrackerEnv env{clock, https, 20000, nullptr, &signin};
  Report r = run_test(managed(kClient), env);
  ASSERT_TRUE(r.ok) << r.checks.back().message;
  const auto& imds = https.requests.front();
  EXPECT_EQ(imds.host, "169.254.169.254");
  EXPECT_TRUE(https.opened.front().plain_http);
  EXPECT_FALSE(https.opened.back().plain_http) << "the tracker itself is asked over TLS";
  EXPECT_EQ(imds.path, "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=499b84ac-1321-427f-aa17-267ca6975798&client_id=" + kClient);
  ASSERT_NE(header(imds.headers, "Metadata"), nullptr);
  EXPECT_EQ(*header(imds.headers, "Metadata"), "true");
  EXPECT_EQ(header(imds.headers, "Authorization"), nullptr);
  EXPECT_EQ(*header(https.requests.back().headers, "Authorization"), "Bearer mi.token");
}

// The machine's token goes to Azure DevOps Services under the system's CAs, or to a server the
// operator named; editing a connection cannot send it anywhere else.
TEST(ManagedIdentity, TheMachinesTokenGoesOnlyToAzureDevOpsServicesOrWhereTheOperatorSaid) {
  struct Case {
    std::string server, ca;
    bool allowed;
  };
  const Case cases[] = {{"https://dev.azure.com/fabrikam", "", true},
                        {"https://fabrikam.visualstudio.com", "", true},
                        {"https://evil.example/fabrikam", "", false},
                        {"https://dev.azure.com.evil.example/x", "", false},
                        {"https://dev.azure.com:8443/fabrikam", "", false},
                        {"https://dev.azure.com/fabrikam", "-----BEGIN CERTIFICATE-----", false},
                        {"https://tfs.example/tfs", "", false}};
  for (const Case& k : cases) {
    Connection c = managed();
    c.server_url = k.server;
    c.ca_cert = k.ca;
    EXPECT_EQ(managed_identity_refusal(c, ManagedIdentitySettings{}).empty(), k.allowed) << k.server;
  }
  ManagedIdentitySettings operator_said;
  operator_said.allowed_servers = {"https://tfs.example:443"};
  Connection c = managed();
  c.server_url = "https://tfs.example/tfs";
  c.ca_cert = "-----BEGIN CERTIFICATE-----";
  EXPECT_TRUE(managed_identity_refusal(c, operator_said).empty());
  // Refused before anything is asked.
  test::FakeClock clock;
  test::FakeHttps https;
  c.server_url = "https://evil.example/fabrikam";
  c.ca_cert.clear();
  SigninContext signin;
  TrackerEnv env{clock, https, 20000, nullptr, &signin};
  Report r = run_test(c, env);
  EXPECT_EQ(r.status, "invalid");
  ASSERT_NE(check(r, "signin"), nullptr);
  EXPECT_NE(check(r, "signin")->hint.find("--managed-identity-server"), std::string::npos);
  EXPECT_TRUE(https.opened.empty());
}

TEST(ManagedIdentity, TemporaryImdsAnswersAreRetriedNotFinal) {
  for (int status : {404, 410, 429, 500, 503}) {
    test::FakeClock clock;
    test::FakeHttps https;
    https.respond = [&](const std::string&) {
      return json_answer(status, R"({"error":"unknown","error_description":"Identity not found yet"})");
    };
    TrackerEnv env{clock, https, 20000};
    EXPECT_EQ(run_test(managed(), env).status, "interrupted") << status;
  }
  test::FakeClock clock;
  test::FakeHttps https;
  https.respond = [&](const std::string&) {
    return json_answer(400, R"({"error":"invalid_request","error_description":"Identity not found"})");
  };
  TrackerEnv env{clock, https, 20000};
  EXPECT_EQ(run_test(managed(kClient), env).status, "not-authorized");
}

// Off Azure nothing answers at 169.254.169.254: the Test says so within seconds.
TEST(ManagedIdentity, TheEndpointGetsSecondsNotTheWholeTest) {
  test::FakeClock clock;
  test::FakeHttps https;
  https.fail_open = true;
  https.open_error = Error{ErrorCode::Timeout, "connect", 0, "timed out connecting to 169.254.169.254:80"};
  TrackerEnv env{clock, https, 20000};
  Report r = run_test(managed(), env);
  ASSERT_EQ(https.opened.size(), 1u);
  EXPECT_EQ(https.opened[0].deadline_ms, clock.now_ms + 5000);
  EXPECT_EQ(r.status, "interrupted");
  EXPECT_NE(check(r, "signin")->hint.find("works only on an Azure VM"), std::string::npos);
}

TEST(ManagedIdentity, APlainHttpEndpointOffThisMachineIsRefused) {
  for (const std::string host : {"http://10.0.0.5", "http://imds.example.com", "https://127.0.0.1", "http://localhost",
                                 "http://169.254.1.1"}) {
    test::FakeClock clock;
    test::FakeHttps https;
    SigninContext signin;
    signin.managed_identity.imds_host = host;
    TrackerEnv env{clock, https, 20000, nullptr, &signin};
    Report r = run_test(managed(), env);
    EXPECT_EQ(r.status, "invalid") << host;
    EXPECT_TRUE(https.opened.empty()) << host;
  }
}

TEST(ManagedIdentity, ArcChallengeIsAnsweredFromItsTokenFolderOnly) {
  test::FakeClock clock;
  test::FakeHttps https;
  test::MemoryFs fs;
  fs.files["/var/opt/azcmagent/tokens/abc123.key"] = "k3y-c0ntent";
  std::string realm = "/var/opt/azcmagent/tokens/abc123.key";
  https.respond = [&](const std::string& path) {
    if (path.rfind("/metadata/identity/oauth2/token", 0) != 0) return test::happy_azure(path);
    const std::string* auth = header(https.requests.back().headers, "Authorization");
    if (!auth) {
      platform::HttpsResponse r = json_answer(401, "{}");
      r.headers.emplace_back("WWW-Authenticate", "Basic realm=" + realm);
      return r;
    }
    return *auth == "Basic k3y-c0ntent" ? json_answer(200, R"({"access_token":"arc.token","expires_in":"3599"})")
                                         : json_answer(401, "{}");
  };
  SigninContext signin;
  signin.fs = &fs;
  signin.managed_identity.identity_endpoint = "http://127.0.0.1:40342/metadata/identity/oauth2/token";
  signin.managed_identity.imds_endpoint = "http://127.0.0.1:40342";
  TrackerEnv env{clock, https, 20000, nullptr, &signin};
  Report r = run_test(managed(), env);
  ASSERT_TRUE(r.ok) << r.checks.back().message;
  EXPECT_NE(https.requests[0].path.find("?api-version=2019-11-01&resource="), std::string::npos);
  EXPECT_EQ(*header(https.requests.back().headers, "Authorization"), "Bearer arc.token");
  // A realm outside the folder, or not a .key file, is never read.
  for (const std::string bad : {"/etc/shadow", "/var/opt/azcmagent/tokens/../../../etc/x.key",
                                "/var/opt/azcmagent/tokens/sub/x.key", "/var/opt/azcmagent/tokens/abc123.txt"}) {
    fs.files[bad] = "secret";
    realm = bad;
    SigninContext fresh;
    fresh.fs = &fs;
    fresh.managed_identity = signin.managed_identity;
    TrackerEnv env2{clock, https, 20000, nullptr, &fresh};
    Report refused = run_test(managed(), env2);
    EXPECT_FALSE(refused.ok) << bad;
    EXPECT_NE(check(refused, "signin")->message.find("does not name a key file"), std::string::npos) << bad;
  }
  // A key file with a line break would split the header line it goes into: refused, never sent.
  realm = "/var/opt/azcmagent/tokens/abc123.key";
  fs.files[realm] = "k3y\r\nX-Evil: 1";
  SigninContext broken;
  broken.fs = &fs;
  broken.managed_identity = signin.managed_identity;
  TrackerEnv env3{clock, https, 20000, nullptr, &broken};
  const size_t asked = https.requests.size();
  Report refused = run_test(managed(), env3);
  EXPECT_NE(check(refused, "signin")->message.find("holds control characters"), std::string::npos);
  for (size_t i = asked; i < https.requests.size(); ++i)
    EXPECT_EQ(header(https.requests[i].headers, "Authorization"), nullptr) << "the key was sent";
  // A user-assigned identity does not exist on Arc.
  EXPECT_EQ(run_test(managed(kClient), env).status, "invalid");
}

TEST(ManagedIdentity, AnUnreadableArcKeyNamesTheHimdsGroup) {
  test::FakeClock clock;
  test::FakeHttps https;
  struct DeniedFs : test::MemoryFs {
    Result<std::string> read_state_file(const std::string& path, size_t) override {
      return Error{ErrorCode::ReadOnly, "open " + path, 13, "Permission denied"};
    }
  } fs;
  https.respond = [&](const std::string&) {
    platform::HttpsResponse r = json_answer(401, "{}");
    r.headers.emplace_back("WWW-Authenticate", "Basic realm=/var/opt/azcmagent/tokens/x.key");
    return r;
  };
  SigninContext signin;
  signin.fs = &fs;
  signin.managed_identity.arc_installed = true;
  TrackerEnv env{clock, https, 20000, nullptr, &signin};
  Report r = run_test(managed(), env);
  EXPECT_EQ(r.status, "not-authorized");
  EXPECT_NE(check(r, "signin")->hint.find("himds"), std::string::npos);
}

TEST(ManagedIdentity, ArcKeyPathAcceptsOnlyAKeyFileDirectlyInTheFolder) {
  const std::string dir = "/var/opt/azcmagent/tokens";
  EXPECT_EQ(arc_key_path("Basic realm=/var/opt/azcmagent/tokens/a1.key", dir), "/var/opt/azcmagent/tokens/a1.key");
  EXPECT_EQ(arc_key_path("Basic realm=\"/var/opt/azcmagent/tokens/a1.key\"", dir), "/var/opt/azcmagent/tokens/a1.key");
  for (const std::string bad : {"Bearer realm=/var/opt/azcmagent/tokens/a.key", "Basic realm=/var/opt/azcmagent/tokens/.key",
                                "Basic realm=/var/opt/azcmagent/tokens/..key", "Basic realm=/var/opt/azcmagent/tokensX/a.key",
                                "Basic realm=/var/opt/azcmagent/tokens/a b.key", "Basic realm=relative/a.key", "Basic realm=",
                                "Basic realm=/var/opt/azcmagent/tokenz/ab.key", "Basic realm=/home/mia/.ssh/id_rsa/x.key"})
    EXPECT_EQ(arc_key_path(bad, dir), "") << bad;
}

// --- settings ----------------------------------------------------------------------------------

bool has_error(const Connection& c, const std::string& field) {
  for (const auto& e : validate_connection(c))
    if (e.field == field) return true;
  return false;
}

TEST(SigninSettings, ServicePrincipalNeedsTenantClientAndSecret) {
  EXPECT_TRUE(validate_connection(service_principal()).empty());
  Connection c = service_principal();
  c.tenant_id.clear();
  c.client_id.clear();
  c.client_secret.clear();
  EXPECT_TRUE(has_error(c, "tenant_id"));
  EXPECT_TRUE(has_error(c, "client_id"));
  EXPECT_TRUE(has_error(c, "client_secret"));
  c = service_principal();
  c.tenant_id = "contoso.onmicrosoft.com";
  EXPECT_TRUE(validate_connection(c).empty());
  c.tenant_id = "not a tenant/";
  EXPECT_TRUE(has_error(c, "tenant_id"));
  EXPECT_TRUE(validate_connection(managed()).empty()) << "a system-assigned identity needs nothing";
  for (const std::string bad : {"http://login.microsoftonline.com", "https://login.microsoftonline.com/tenant", "login"}) {
    c = service_principal();
    c.authority_host = bad;
    EXPECT_TRUE(has_error(c, "authority_host")) << bad;
  }
}

TEST(SigninSettings, SecretsDoNotFollowToAnotherAuthority) {
  Connection stored = service_principal();
  Connection edited = stored;
  EXPECT_TRUE(server_secrets_may_follow(edited, stored));
  edited.authority_host = "https://login.microsoftonline.com";
  EXPECT_TRUE(server_secrets_may_follow(edited, stored)) << "the default, spelled out";
  edited.authority_host = "https://login.evil.example";
  EXPECT_FALSE(server_secrets_may_follow(edited, stored));
}

}  // namespace
}  // namespace tracklight::firmware
