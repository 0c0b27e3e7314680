// The device code sign-in (Microsoft Entra ID, RFC 8628) and what follows it: the offer shown to
// the person, each answer of the polls, the refresh token kept and rotated (saved before the new
// access token is used), the pending sign-ins' table, with an in-memory HTTPS connector.
#include <gtest/gtest.h>

#include "firmware/checks/tester.hpp"
#include "firmware/signin/device_code.hpp"
#include "firmware/signin/pending_signins.hpp"
#include "firmware/signin/signin.hpp"
#include "tests/support/fakes.hpp"

namespace tracklight::firmware {
namespace {

using test::json_answer;

Connection device_code_connection() {
  Connection c;
  c.id = "dc";
  c.name = "Fabrikam";
  c.provider = "azure-devops";
  c.server_url = "https://dev.azure.com/fabrikam";
  c.auth = "device-code";
  c.tenant_id = "72f988bf-86f1-41af-91ab-2d7cd011db47";
  c.client_id = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
  c.project = "Fiber";
  c.refresh_token = "rt-0";
  c.signed_in_as = "mia@fabrikam.example";
  return c;
}

std::string entra_error(const std::string& error, int code) {
  return R"({"error":")" + error + R"(","error_description":"AADSTS)" + std::to_string(code) +
         R"(: text\r\nTrace ID: 1","error_codes":[)" + std::to_string(code) + "]}";
}

std::string tokens(const std::string& access, const std::string& refresh, const std::string& id_token = "") {
  return R"({"token_type":"Bearer","expires_in":3599,"access_token":")" + access + R"(","refresh_token":")" + refresh +
         (id_token.empty() ? "" : R"(","id_token":")" + id_token) + "\"}";
}

std::string form_value(const std::string& body, const std::string& name) {
  const size_t at = ("&" + body).find("&" + name + "=");
  if (at == std::string::npos) return "";
  const size_t start = at + name.size() + 1, end = body.find('&', start);
  return body.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::string authorization_of(const test::FakeHttps::Request& r) {
  for (const auto& kv : r.headers)
    if (kv.first == "Authorization") return kv.second;
  return "";
}

struct DeviceCodeTest : ::testing::Test {
  test::FakeClock clock;
  test::FakeHttps https;
  SigninContext signin;
  TrackerEnv env{clock, https, 20000, nullptr, &signin};
};

TEST_F(DeviceCodeTest, TheOfferAsksForTheRefreshTokenAndShowsWhatEntraSaid) {
  https.respond_post = [](const std::string&, const std::string&) {
    return json_answer(200, R"({"user_code":"GQ7HR2KXP","device_code":"DAQAB-secret","verification_uri":"https://microsoft.com/devicelogin",)"
                            R"("expires_in":900,"interval":5,"message":"To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code GQ7HR2KXP."})");
  };
  Connection c = device_code_connection();
  DeviceCodeOffer o = entra_device_code(c, env, 20000);
  ASSERT_TRUE(o.ok) << o.failure.message;
  EXPECT_EQ(o.user_code, "GQ7HR2KXP");
  EXPECT_EQ(o.device_code, "DAQAB-secret");
  EXPECT_EQ(o.interval_s, 5);
  EXPECT_EQ(o.expires_in_s, 900);
  EXPECT_NE(o.message.find("GQ7HR2KXP"), std::string::npos);
  ASSERT_EQ(https.requests.size(), 1u);
  EXPECT_EQ(https.requests[0].host, "login.microsoftonline.com");
  EXPECT_EQ(https.requests[0].path, "/" + c.tenant_id + "/oauth2/v2.0/devicecode");
  EXPECT_NE(form_value(https.requests[0].body, "scope").find("offline_access"), std::string::npos) << "no refresh token without it";
  EXPECT_EQ(form_value(https.requests[0].body, "client_id"), c.client_id);
}

TEST_F(DeviceCodeTest, AnOfferThatCannotBeShownSafelyIsRefused) {
  for (const char* body : {R"({"user_code":"A","device_code":"d","verification_uri":"http://evil.example/x","expires_in":900})",
                           R"({"user_code":7,"device_code":"d","verification_uri":"https://microsoft.com/devicelogin"})",
                           R"({"device_code":"d","verification_uri":"https://microsoft.com/devicelogin"})"}) {
    https.respond_post = [&](const std::string&, const std::string&) { return json_answer(200, body); };
    DeviceCodeOffer o = entra_device_code(device_code_connection(), env, 20000);
    EXPECT_FALSE(o.ok) << body;
    EXPECT_EQ(o.failure.status, "interrupted") << body;
  }
  // Entra's own refusal is named: the app is not in the tenant.
  https.respond_post = [](const std::string&, const std::string&) { return json_answer(400, entra_error("unauthorized_client", 700016)); };
  DeviceCodeOffer o = entra_device_code(device_code_connection(), env, 20000);
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.failure.message.find("AADSTS700016"), std::string::npos) << o.failure.message;
}

TEST_F(DeviceCodeTest, EachPollAnswerIsTold) {
  const Connection c = device_code_connection();
  struct Case {
    std::string body;
    int status;
    DevicePoll::State state;
    const char* says;
  };
  const std::string id_token = test::unsigned_jwt(R"({"preferred_username":"mia@fabrikam.example","tid":"t"})");
  const Case cases[] = {
      {entra_error("authorization_pending", 70016), 400, DevicePoll::Pending, ""},
      {entra_error("slow_down", 70016), 400, DevicePoll::SlowDown, ""},
      {entra_error("expired_token", 70020), 400, DevicePoll::Failed, "expired"},
      {entra_error("authorization_declined", 65004), 400, DevicePoll::Failed, "declined"},
      {entra_error("access_denied", 50105), 400, DevicePoll::Failed, "AADSTS50105"},
      {entra_error("invalid_client", 7000218), 401, DevicePoll::Failed, "public client"},
      {tokens("at-1", "rt-1", id_token), 200, DevicePoll::Done, ""},
      {R"({"token_type":"Bearer","expires_in":3599,"access_token":"at-1"})", 200, DevicePoll::Failed, "no refresh token"},
  };
  for (const Case& k : cases) {
    https.respond_post = [&](const std::string&, const std::string&) { return json_answer(k.status, k.body); };
    DevicePoll p = entra_device_poll(c, env, 20000, "DAQAB-secret");
    EXPECT_EQ(p.state, k.state) << k.body;
    if (*k.says) {
      EXPECT_NE(p.outcome.message.find(k.says), std::string::npos) << p.outcome.message;
    }
    if (k.state == DevicePoll::Done) {
      EXPECT_EQ(p.outcome.token, "at-1");
      EXPECT_EQ(p.outcome.refresh_token, "rt-1");
      EXPECT_EQ(p.account, "mia@fabrikam.example");
    }
  }
  EXPECT_EQ(form_value(https.requests.back().body, "grant_type"), "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code");
  EXPECT_EQ(form_value(https.requests.back().body, "device_code"), "DAQAB-secret");
  // 7000218's fix is the app registration's switch.
  https.respond_post = [](const std::string&, const std::string&) { return json_answer(401, entra_error("invalid_client", 7000218)); };
  EXPECT_NE(entra_device_poll(c, env, 20000, "d").outcome.hint.find("Allow public client flows"), std::string::npos);
  // A network failure is not the end of the sign-in: the next poll tries again.
  https.fail_open = true;
  EXPECT_EQ(entra_device_poll(c, env, 20000, "d").state, DevicePoll::Pending);
}

TEST(IdTokenAccount, ReadsTheNameAndNothingHostile) {
  const auto jwt = test::unsigned_jwt;
  EXPECT_EQ(id_token_account(jwt(R"({"preferred_username":"mia@fabrikam.example"})")), "mia@fabrikam.example");
  EXPECT_EQ(id_token_account(jwt(R"({"preferred_username":7,"email":"e@x.example"})")), "e@x.example");
  EXPECT_EQ(id_token_account(jwt(R"({"name":"Mia\nX-Evil: 1"})")), "");
  EXPECT_EQ(id_token_account(jwt("[1,2]")), "");
  EXPECT_EQ(id_token_account("not-a-jwt"), "");
  EXPECT_EQ(id_token_account("a.%%%.b"), "");
}

// The refresh token rotates: the new one is saved (and only then is the access token used), the
// next renewal starts from it, and the tracker gets the access token as Bearer.
TEST_F(DeviceCodeTest, ARotatedRefreshTokenIsSavedBeforeTheTokenIsUsed) {
  std::vector<std::string> events;
  int issued = 0;
  https.respond_post = [&](const std::string&, const std::string& body) {
    events.push_back("refresh with " + form_value(body, "refresh_token"));
    ++issued;
    return json_answer(200, tokens("at-" + std::to_string(issued), "rt-" + std::to_string(issued)));
  };
  https.respond = [&](const std::string& path) {
    events.push_back("tracker");
    return test::happy_azure(path);
  };
  Connection c = device_code_connection();  // as stored
  signin.keep_refresh_token = [&](const Connection& conn, const std::string& used, const std::string& fresh) -> Result<bool> {
    events.push_back("save " + fresh + " over " + used + " of " + conn.id);
    c.refresh_token = fresh;
    return true;
  };
  Report r = run_test(c, env);
  EXPECT_EQ(r.status, "authorized") << report_to_json(r).dump();
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events[0], "refresh with rt-0");
  EXPECT_EQ(events[1], "save rt-1 over rt-0 of dc");
  EXPECT_EQ(events[2], "tracker");
  EXPECT_EQ(https.requests[0].path, "/" + c.tenant_id + "/oauth2/v2.0/token");
  EXPECT_EQ(form_value(https.requests[0].body, "grant_type"), "refresh_token");
  EXPECT_EQ(https.requests[1].headers.empty() ? "" : authorization_of(https.requests[1]), "Bearer at-1");
  // An hour later the connection (as stored before) renews again, from rt-1, not rt-0.
  clock.now_ms += 3600 * 1000;
  events.clear();
  EXPECT_EQ(run_test(c, env).status, "authorized");
  EXPECT_EQ(events[0], "refresh with rt-1");
  EXPECT_EQ(events[1], "save rt-2 over rt-1 of dc");
}

// When the rotated refresh token cannot be saved, the Test says so (interrupted, retried) and the
// new token is not lost: the next renewal starts from it and saves again.
TEST_F(DeviceCodeTest, AFailedSaveIsInterruptedAndTheNewTokenIsKeptInMemory) {
  int issued = 0;
  std::vector<std::string> used;
  https.respond_post = [&](const std::string&, const std::string& body) {
    used.push_back(form_value(body, "refresh_token"));
    ++issued;
    return json_answer(200, tokens("at-" + std::to_string(issued), "rt-" + std::to_string(issued)));
  };
  https.respond = test::happy_azure;
  bool disk_full = true;
  signin.keep_refresh_token = [&](const Connection&, const std::string&, const std::string&) -> Result<bool> {
    if (disk_full) return Error{ErrorCode::NoSpace, "/state/tracklight.conf", 28, "no space left on device"};
    return true;
  };
  Report r = run_test(device_code_connection(), env);
  EXPECT_EQ(r.status, "interrupted");
  EXPECT_NE(report_to_json(r).dump().find("could not be saved"), std::string::npos) << report_to_json(r).dump();
  EXPECT_EQ(report_to_json(r).dump().find("rt-1"), std::string::npos) << "a refresh token in the report";
  disk_full = false;
  EXPECT_EQ(run_test(device_code_connection(), env).status, "authorized");
  EXPECT_EQ(used, (std::vector<std::string>{"rt-0", "rt-1"}));
}

// A sign-in made in a dialog and only Tested (not Connected) renews for itself: the stored
// connection's own refresh token stays the one it renews from, in memory and on disk.
TEST_F(DeviceCodeTest, ATestedButUnsavedSignInNeverReplacesTheStoredOne) {
  std::vector<std::string> used;
  https.respond_post = [&](const std::string&, const std::string& body) {
    const std::string rt = form_value(body, "refresh_token");
    used.push_back(rt);
    return json_answer(200, tokens("at-of-" + rt, rt + "-next"));
  };
  https.respond = test::happy_azure;
  int saved = 0;
  signin.keep_refresh_token = [&](const Connection& conn, const std::string&, const std::string&) -> Result<bool> {
    if (conn.refresh_token != "rt-stored") return false;  // the file holds the stored sign-in only
    ++saved;
    return true;
  };
  Connection stored = device_code_connection(), draft = stored;
  stored.refresh_token = "rt-stored";
  draft.refresh_token = "rt-dialog";  // the same person signed in again in the dialog
  EXPECT_EQ(run_test(draft, env).status, "authorized");
  EXPECT_EQ(saved, 0);
  clock.now_ms += 3600 * 1000;
  EXPECT_EQ(run_test(stored, env).status, "authorized");
  EXPECT_EQ(used, (std::vector<std::string>{"rt-dialog", "rt-stored"})) << "the stored connection renewed from the dialog's token";
  EXPECT_EQ(saved, 1);
  // The dialog's own renewal is kept for it (not saved anywhere), and a Connect takes it.
  EXPECT_EQ(unsaved_refresh(signin, draft, "rt-dialog", true), "rt-dialog-next");
  EXPECT_EQ(unsaved_refresh(signin, draft, "rt-dialog", false), "") << "taken once saved";
}

// With single-use refresh tokens, another process (`tracklight test`) may have renewed and saved
// meanwhile: a refused token makes the agent read the stored one and try it once.
TEST_F(DeviceCodeTest, ARefusedRefreshTokenIsRetriedWithTheOneStoredMeanwhile) {
  std::vector<std::string> used;
  https.respond_post = [&](const std::string&, const std::string& body) {
    const std::string rt = form_value(body, "refresh_token");
    used.push_back(rt);
    if (rt != "rt-on-disk") return json_answer(400, entra_error("invalid_grant", 70000));
    return json_answer(200, tokens("at-1", "rt-after"));
  };
  https.respond = test::happy_azure;
  int asked = 0;
  signin.stored_refresh_token = [&](const Connection&) { return ++asked, std::string("rt-on-disk"); };
  signin.keep_refresh_token = [&](const Connection&, const std::string& u, const std::string&) -> Result<bool> {
    EXPECT_EQ(u, "rt-on-disk") << "the save must replace the token that was used";
    return true;
  };
  EXPECT_EQ(run_test(device_code_connection(), env).status, "authorized");
  EXPECT_EQ(used, (std::vector<std::string>{"rt-0", "rt-on-disk"}));
  // When the stored one is the same, there is nothing else to try: not-authorized, once.
  signin.stored_refresh_token = [](const Connection&) { return std::string("rt-0"); };
  used.clear();
  Connection c = device_code_connection();
  c.signed_in_as = "other@fabrikam.example";
  EXPECT_EQ(run_test(c, env).status, "not-authorized");
  EXPECT_EQ(used, (std::vector<std::string>{"rt-0"}));
}

TEST_F(DeviceCodeTest, ARevokedSignInIsNotAuthorizedWithSignInAgain) {
  https.respond_post = [](const std::string&, const std::string&) { return json_answer(400, entra_error("invalid_grant", 700082)); };
  Report r = run_test(device_code_connection(), env);
  EXPECT_EQ(r.status, "not-authorized");
  const std::string j = report_to_json(r).dump();
  EXPECT_NE(j.find("expired or was revoked (AADSTS700082)"), std::string::npos) << j;
  EXPECT_NE(j.find("Sign in"), std::string::npos) << j;
  // 5xx and a network failure are interrupted (retried), not a lost sign-in.
  https.respond_post = [](const std::string&, const std::string&) { return json_answer(503, "{}"); };
  EXPECT_EQ(run_test(device_code_connection(), env).status, "interrupted");
}

// The kept access token of a sign-in belongs to its connection and account: two people signed
// in with the same app never share one.
TEST_F(DeviceCodeTest, TokensOfTwoAccountsAreKeptApart) {
  https.respond = test::happy_azure;
  Connection mia = device_code_connection(), ola = device_code_connection();
  ola.signed_in_as = "ola@fabrikam.example";
  keep_signin(signin, mia, 0, [] {
    TokenFetch f = TokenFetch::token_of("at-mia", 3599);
    f.refresh_token = "rt-mia";
    return f;
  }());
  int refreshes = 0;
  https.respond_post = [&](const std::string&, const std::string&) { return ++refreshes, json_answer(200, tokens("at-ola", "rt-ola2")); };
  EXPECT_EQ(authorize(mia, env, 20000).authorization, "Bearer at-mia");
  EXPECT_EQ(refreshes, 0) << "the sign-in's own token was not used";
  EXPECT_EQ(authorize(ola, env, 20000).authorization, "Bearer at-ola");
}

Connection started_with() { return device_code_connection(); }

TEST(PendingSignins, OnlyItsSessionAndDialogFindItUntilItExpires) {
  test::CountingEntropy entropy;
  PendingSignins table;
  PendingSignin p;
  p.session = "session-a";
  p.dialog = "dialog-1-abcdefghij";
  p.expires_ms = 60000;
  auto id = table.add(p, entropy, 0);
  ASSERT_TRUE(id);
  EXPECT_EQ(id->size(), 32u);
  EXPECT_NE(table.find(*id, "session-a", "dialog-1-abcdefghij", 1000), nullptr);
  EXPECT_EQ(table.find(*id, "session-b", "dialog-1-abcdefghij", 1000), nullptr) << "another session";
  EXPECT_EQ(table.find(*id, "session-a", "dialog-2-abcdefghij", 1000), nullptr) << "another dialog";
  EXPECT_EQ(table.find(*id + "0", "session-a", "dialog-1-abcdefghij", 1000), nullptr);
  EXPECT_EQ(table.find(*id, "session-a", "dialog-1-abcdefghij", 60000), nullptr) << "expired";
  EXPECT_EQ(table.size(), 0u) << "an expired one is dropped";
}

TEST(PendingSignins, OneSessionCannotCrowdOutTheOthers) {
  test::CountingEntropy entropy;
  PendingSignins table;
  PendingSignin p;
  p.expires_ms = 60000;
  p.session = "a";
  for (size_t i = 0; i < PendingSignins::kMaxPerSession; ++i) {
    p.dialog = "dialog-" + std::to_string(i);
    ASSERT_TRUE(table.add(p, entropy, 0));
  }
  p.dialog = "dialog-x";
  EXPECT_FALSE(table.has_room("a", "dialog-x", 0));
  EXPECT_FALSE(table.add(p, entropy, 0));
  p.session = "b";
  EXPECT_TRUE(table.add(p, entropy, 0));
  // Once the first ones expire, the session may start again.
  p.session = "a";
  p.expires_ms = 120000;
  EXPECT_TRUE(table.add(p, entropy, 60000));
}

// Sign in pressed again in one dialog replaces that dialog's earlier sign-in (never blocks it),
// unless a Connect is using it.
TEST(PendingSignins, ANewSignInInTheSameDialogReplacesTheEarlierOne) {
  test::CountingEntropy entropy;
  PendingSignins table;
  PendingSignin p;
  p.session = "a";
  p.dialog = "dialog-1";
  p.expires_ms = 60000;
  std::string last;
  for (int i = 0; i < 10; ++i) {
    auto id = table.add(p, entropy, 0);
    ASSERT_TRUE(id) << "press " << i;
    if (!last.empty()) {
      EXPECT_EQ(table.find(last, "a", "dialog-1", 0), nullptr) << "the earlier one is gone";
    }
    last = *id;
  }
  EXPECT_EQ(table.size(), 1u);
  table.get(last)->claimed = true;
  ASSERT_TRUE(table.add(p, entropy, 0));
  EXPECT_NE(table.get(last), nullptr) << "a sign-in a Connect is using was dropped";
}

TEST(PendingSignins, ASignInIsUsedOnlyWithTheSettingsItWasMadeFor) {
  const Connection made = started_with();
  Connection draft = made;
  draft.name = "renamed";
  draft.project = "Other";
  EXPECT_TRUE(same_signin_settings(draft, made)) << "name and project do not matter";
  draft.server_url = "https://dev.azure.com/contoso";
  EXPECT_TRUE(same_signin_settings(draft, made)) << "another organisation on the same server, as for every secret";
  for (auto change : std::vector<std::function<void(Connection&)>>{
           [](Connection& c) { c.server_url = "https://evil.example/fabrikam"; },
           [](Connection& c) { c.tenant_id = "organizations"; },
           [](Connection& c) { c.client_id = "11111111-2222-3333-4444-555555555555"; },
           [](Connection& c) { c.authority_host = "https://login.microsoftonline.us"; },
           [](Connection& c) { c.proxy_url = "http://proxy.example:3128"; },
           [](Connection& c) { c.ca_cert = "-----BEGIN CERTIFICATE-----"; }}) {
    Connection d = made;
    change(d);
    EXPECT_FALSE(same_signin_settings(d, made));
  }
}

}  // namespace
}  // namespace tracklight::firmware
