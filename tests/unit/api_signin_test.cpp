// The device code sign-in through the API, as the dialog drives it: start, poll (the agent asks
// Entra only at the interval given), then Test and Connect with the completed sign-in, which is
// bound to the session and dialog that started it and used once.
#include "tests/unit/api_fixture.hpp"

namespace tracklight::firmware {
namespace {

const char* kDialog = "dialog-0123456789abcdef";

struct ApiSigninTest : ApiTest {
  std::string answer = "authorization_pending";  // what the token endpoint says to the next poll
  int polls = 0, refreshes = 0, signins = 0;

  void SetUp() override {
    ApiTest::SetUp();
    set_up_admin();
    https.respond = test::happy_azure;
    https.respond_post = [this](const std::string& path, const std::string& body) {
      if (path.find("/devicecode") != std::string::npos)
        return test::json_answer(200, R"({"user_code":"GQ7HR2KXP","device_code":"DAQAB-SECRET-DEVICE-CODE",)"
                                      R"("verification_uri":"https://microsoft.com/devicelogin","expires_in":900,"interval":5,)"
                                      R"("message":"To sign in, open https://microsoft.com/devicelogin and enter GQ7HR2KXP."})");
      if (body.find("grant_type=refresh_token") != std::string::npos) {
        ++refreshes;
        return test::json_answer(200, R"({"access_token":"AT-REFRESHED","expires_in":3599,"refresh_token":"RT-ROTATED"})");
      }
      ++polls;
      if (answer == "done") {
        const std::string id = test::unsigned_jwt(R"({"preferred_username":"mia@fabrikam.example"})");
        const std::string rt = ++signins == 1 ? "RT-CANARY-SEALED" : "RT-CANARY-SEALED-" + std::to_string(signins);
        return test::json_answer(200, R"({"token_type":"Bearer","expires_in":3599,"access_token":"AT-FROM-SIGNIN",)"
                                      R"("refresh_token":")" + rt + R"(","id_token":")" + id + "\"}");
      }
      return test::json_answer(400, R"({"error":")" + answer + R"(","error_codes":[70016]})");
    };
  }
  static json connection() {
    return {{"name", "Fabrikam"}, {"provider", "azure-devops"}, {"server_url", "https://dev.azure.com/fabrikam"},
            {"auth", "device-code"}, {"tenant_id", "72f988bf-86f1-41af-91ab-2d7cd011db47"},
            {"client_id", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"}, {"project", "Fiber"}};
  }
  json start(const json& conn = connection(), const std::string& dialog = kDialog) {
    auto r = call("POST", "/api/v1/signin", json{{"connection", conn}, {"dialog", dialog}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return body_of(r);
  }
  HttpResponse poll(const std::string& id, const std::string& dialog = kDialog) {
    return call("GET", "/api/v1/signin/" + id + "?dialog=" + dialog);
  }
  // Started and completed: the id.
  std::string signed_in(const std::string& dialog = kDialog) {
    const std::string id = start(connection(), dialog)["id"];
    answer = "done";
    clock.now_ms += 5000;
    auto r = poll(id, dialog);
    EXPECT_EQ(body_of(r)["state"], "complete") << r.body;
    return id;
  }
  static json with_signin(json conn, const std::string& id, const std::string& dialog = kDialog) {
    conn["signin"] = id;
    conn["dialog"] = dialog;
    return conn;
  }
};

TEST_F(ApiSigninTest, ADeviceCodeSignInIsShownPolledAndConnected) {
  json offer = start();
  EXPECT_EQ(offer["state"], "waiting");
  EXPECT_EQ(offer["user_code"], "GQ7HR2KXP");
  EXPECT_EQ(offer["verification_uri"], "https://microsoft.com/devicelogin");
  EXPECT_NE(offer["message"].get<std::string>().find("GQ7HR2KXP"), std::string::npos);
  EXPECT_EQ(offer.dump().find("DAQAB-SECRET"), std::string::npos) << "the device code is the agent's secret";
  const std::string id = offer["id"];

  // The page may ask every second; Entra is asked only at the interval it gave.
  EXPECT_EQ(body_of(poll(id))["state"], "waiting");
  EXPECT_EQ(polls, 0);
  clock.now_ms += 5000;
  EXPECT_EQ(body_of(poll(id))["state"], "waiting");
  EXPECT_EQ(polls, 1);
  clock.now_ms += 1000;
  poll(id);
  EXPECT_EQ(polls, 1);
  answer = "done";
  clock.now_ms += 4000;
  json done = body_of(poll(id));
  EXPECT_EQ(done["state"], "complete");
  EXPECT_EQ(done["account"], "mia@fabrikam.example");
  EXPECT_EQ(done.dump().find("CANARY"), std::string::npos);

  // Test uses the sign-in's own access token: no renewal.
  auto t = call("POST", "/api/v1/connections/test", with_signin(connection(), id).dump());
  EXPECT_EQ(body_of(t)["status"], "authorized") << t.body;
  EXPECT_NE(t.body.find("for mia@fabrikam.example"), std::string::npos) << t.body;
  EXPECT_EQ(refreshes, 0);
  std::string sent;
  for (const auto& h : https.requests.back().headers)
    if (h.first == "Authorization") sent = h.second;
  EXPECT_EQ(sent, "Bearer AT-FROM-SIGNIN") << "the tracker did not get the sign-in's token";

  auto put = call("PUT", "/api/v1/connections/fab", with_signin(connection(), id).dump());
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(refreshes, 0);
  json saved = body_of(put)["connection"];
  EXPECT_EQ(saved["signed_in_as"], "mia@fabrikam.example");
  EXPECT_TRUE(saved["secrets"]["refresh_token"].get<bool>());
  EXPECT_EQ(put.body.find("CANARY"), std::string::npos) << "a refresh token in the answer";
  EXPECT_EQ(call("GET", "/api/v1/connections/fab").body.find("CANARY"), std::string::npos);
  auto file = fs.read_file("state/tracklight.conf", 1 << 20);
  ASSERT_TRUE(file);
  EXPECT_EQ(file->find("RT-CANARY-SEALED"), std::string::npos) << "the refresh token is written sealed";
  EXPECT_NE(file->find("refresh_token"), std::string::npos);

  // Used once: a second Connect with it is refused.
  auto again = call("PUT", "/api/v1/connections/fab2", with_signin(connection(), id).dump());
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(code_of(again), "signin_not_found");
  // Editing the connection later keeps the sign-in (and the account) without signing in again.
  json edited = connection();
  edited["name"] = "Fabrikam builds";
  auto kept = call("PUT", "/api/v1/connections/fab", edited.dump());
  ASSERT_EQ(kept.status, 200) << kept.body;
  EXPECT_EQ(body_of(kept)["connection"]["signed_in_as"], "mia@fabrikam.example");
  EXPECT_TRUE(body_of(kept)["connection"]["secrets"]["refresh_token"].get<bool>());
}

TEST_F(ApiSigninTest, OnlyTheSessionAndDialogThatStartedItCanUseIt) {
  const std::string id = signed_in();
  EXPECT_EQ(poll(id, "dialog-another-one-0000").status, 404);
  auto other_dialog = call("POST", "/api/v1/connections/test", with_signin(connection(), id, "dialog-another-one-0000").dump());
  EXPECT_EQ(other_dialog.status, 409);
  EXPECT_EQ(code_of(other_dialog), "signin_not_found");
  // Another admin session (another browser) does not find it either.
  const std::string mine = cookie, my_csrf = csrf;
  auto login = call("POST", "/api/v1/login", json{{"password", "correct horse"}}.dump(), {{"Cookie", ""}, {"X-CSRF-Token", ""}});
  ASSERT_EQ(login.status, 200) << login.body;
  take_session(login);
  EXPECT_NE(cookie, mine);
  EXPECT_EQ(poll(id).status, 404);
  EXPECT_EQ(call("PUT", "/api/v1/connections/x", with_signin(connection(), id).dump()).status, 409);
  cookie = mine, csrf = my_csrf;
  EXPECT_EQ(poll(id).status, 200) << "refused to its own session";
}

TEST_F(ApiSigninTest, ASignInIsNotCarriedToOtherSettings) {
  const std::string id = signed_in();
  for (auto change : {json{{"server_url", "https://evil.example/fabrikam"}}, json{{"tenant_id", "contoso.onmicrosoft.com"}},
                      json{{"client_id", "11111111-2222-3333-4444-555555555555"}},
                      json{{"authority_host", "https://login.evil.example"}}}) {
    json conn = connection();
    conn.update(change);
    auto r = call("POST", "/api/v1/connections/test", with_signin(conn, id).dump());
    EXPECT_EQ(r.status, 409) << change.dump();
    EXPECT_EQ(code_of(r), "signin_settings_changed") << change.dump();
  }
  EXPECT_EQ(polls, 1);
  EXPECT_EQ(refreshes, 0);
}

TEST_F(ApiSigninTest, ARefreshTokenCannotBeSetThroughTheApi) {
  json conn = connection();
  conn["refresh_token"] = "planted";
  auto r = call("PUT", "/api/v1/connections/fab", conn.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body_of(r)["error"]["field"], "refresh_token");
  // Without a sign-in, Test says what to do next to the Sign in button.
  auto t = call("POST", "/api/v1/connections/test", connection().dump());
  EXPECT_EQ(body_of(t)["status"], "invalid");
  EXPECT_NE(t.body.find("press Sign in"), std::string::npos) << t.body;
}

TEST_F(ApiSigninTest, SlowDownWidensTheIntervalAndAnExpiredCodeStopsPolling) {
  const std::string id = start()["id"];
  answer = "slow_down";
  clock.now_ms += 5000;
  EXPECT_EQ(body_of(poll(id))["interval"], 10);
  answer = "authorization_pending";
  clock.now_ms += 5000;
  poll(id);
  EXPECT_EQ(polls, 1) << "asked again before the widened interval";
  clock.now_ms += 5000;
  poll(id);
  EXPECT_EQ(polls, 2);
  clock.now_ms += 900 * 1000;
  json expired = body_of(poll(id));
  EXPECT_EQ(expired["state"], "failed");
  EXPECT_NE(expired["error"]["message"].get<std::string>().find("code expired"), std::string::npos) << expired.dump();
  EXPECT_EQ(polls, 2) << "Entra was asked after the code expired";
  clock.now_ms += 60 * 1000;
  EXPECT_EQ(polls, 2);
  EXPECT_EQ(body_of(poll(id))["state"], "failed") << "the reason stays readable for a while";
}

TEST_F(ApiSigninTest, ADeclinedSignInIsFailedWithItsReason) {
  const std::string id = start()["id"];
  answer = "authorization_declined";
  clock.now_ms += 5000;
  json r = body_of(poll(id));
  EXPECT_EQ(r["state"], "failed");
  EXPECT_NE(r["error"]["message"].get<std::string>().find("declined"), std::string::npos);
  auto use = call("POST", "/api/v1/connections/test", with_signin(connection(), id).dump());
  EXPECT_EQ(code_of(use), "signin_not_complete");
}

// Used once, also when two Connects race: the second one, arriving while the first is still
// testing, is refused; a Connect that fails releases it for the next try.
TEST_F(ApiSigninTest, TwoConnectsCannotBothTakeOneSignIn) {
  const std::string id = signed_in();
  HttpResponse second;
  bool nested = false;
  https.respond = [&](const std::string& path) {
    if (!nested) {
      nested = true;  // a double click: the second PUT arrives during the first one's Test
      second = call("PUT", "/api/v1/connections/other", with_signin(connection(), id).dump());
    }
    return test::happy_azure(path);
  };
  ASSERT_EQ(call("PUT", "/api/v1/connections/fab", with_signin(connection(), id).dump()).status, 200);
  EXPECT_EQ(second.status, 409) << second.body;
  EXPECT_EQ(code_of(second), "signin_in_use");
  EXPECT_EQ(call("GET", "/api/v1/connections/other").status, 404);
}

TEST_F(ApiSigninTest, AFailedConnectLeavesTheSignInForTheNextTry) {
  const std::string id = signed_in();
  https.respond = [](const std::string&) { return test::json_answer(503, "{}"); };
  EXPECT_EQ(call("PUT", "/api/v1/connections/fab", with_signin(connection(), id).dump()).status, 422);
  https.respond = test::happy_azure;
  EXPECT_EQ(call("PUT", "/api/v1/connections/fab", with_signin(connection(), id).dump()).status, 200);
}

// Signing in again in the dialog and only testing it leaves the stored sign-in as it was: the
// next renewal of the stored connection uses its own refresh token.
TEST_F(ApiSigninTest, ATestedSignInDoesNotReplaceTheStoredOne) {
  const std::string first = signed_in();
  ASSERT_EQ(call("PUT", "/api/v1/connections/fab", with_signin(connection(), first).dump()).status, 200);
  answer = "authorization_pending";
  const std::string again = signed_in("dialog-0123456789abcde2");
  json tested = with_signin(connection(), again, "dialog-0123456789abcde2");
  tested["id"] = "fab";
  EXPECT_EQ(body_of(call("POST", "/api/v1/connections/test", tested.dump()))["status"], "authorized");
  std::string renewed_with;
  https.respond_post = [&](const std::string&, const std::string& body) {
    renewed_with = body.substr(body.find("refresh_token=") + 14);
    renewed_with = renewed_with.substr(0, renewed_with.find('&'));
    return test::json_answer(200, R"({"access_token":"AT-2","expires_in":3599,"refresh_token":"RT-3"})");
  };
  clock.now_ms += 3600 * 1000;
  json stored = connection();
  stored["id"] = "fab";
  EXPECT_EQ(body_of(call("POST", "/api/v1/connections/test", stored.dump()))["status"], "authorized");
  EXPECT_EQ(renewed_with, "RT-CANARY-SEALED") << "the stored connection renewed from another sign-in's token";
}

// A new sign-in that Entra refuses fails as itself: the stored connection's sign-in is not used
// in its place (the fallback on the stored token is for that stored sign-in only).
TEST_F(ApiSigninTest, ARefusedNewSignInDoesNotPassWithTheStoredOne) {
  const std::string first = signed_in();
  ASSERT_EQ(call("PUT", "/api/v1/connections/fab", with_signin(connection(), first).dump()).status, 200);
  auto devicecode = https.respond_post;
  std::vector<std::string> renewed_with;
  https.respond_post = [&](const std::string& path, const std::string& body) {
    if (path.find("/devicecode") != std::string::npos) return devicecode(path, body);
    if (body.find("grant_type=refresh_token") == std::string::npos)  // the new sign-in: a token that expires at once
      return test::json_answer(200, R"({"access_token":"AT-NEW","expires_in":60,"refresh_token":"RT-NEW","id_token":")" +
                                        test::unsigned_jwt(R"({"preferred_username":"mia@fabrikam.example"})") +
                                        "\"}");  // the same person as the stored sign-in
    const std::string rt = body.substr(body.find("refresh_token=") + 14);
    renewed_with.push_back(rt.substr(0, rt.find('&')));
    if (renewed_with.back() != "RT-CANARY-SEALED")
      return test::json_answer(400, R"({"error":"invalid_grant","error_codes":[70000]})");
    return test::json_answer(200, R"({"access_token":"AT-2","expires_in":3599,"refresh_token":"RT-3"})");
  };
  const std::string again = signed_in("dialog-0123456789abcde2");
  // Its access token lives less than the 5-minute margin: Test renews it, and Entra refuses.
  json tested = with_signin(connection(), again, "dialog-0123456789abcde2");
  tested["id"] = "fab";
  json r = body_of(call("POST", "/api/v1/connections/test", tested.dump()));
  EXPECT_EQ(r["status"], "not-authorized") << r.dump();
  EXPECT_EQ(renewed_with, (std::vector<std::string>{"RT-NEW"})) << "the stored sign-in was used in its place";
}

TEST_F(ApiSigninTest, AnotherMethodDropsTheSignIn) {
  const std::string id = signed_in();
  ASSERT_EQ(call("PUT", "/api/v1/connections/fab", with_signin(connection(), id).dump()).status, 200);
  json pat = connection();
  pat["auth"] = "pat";
  pat["token"] = "a-pat";
  pat["server_url"] = "https://tfs.example.com/tfs";  // and elsewhere: no "sign in again" for a method not used
  auto r = call("PUT", "/api/v1/connections/fab?verify=false", pat.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(body_of(r)["connection"]["secrets"]["refresh_token"].get<bool>());
  EXPECT_EQ(body_of(r)["connection"]["signed_in_as"], "");
}

TEST_F(ApiSigninTest, MovingAStoredSignInToAnotherServerAsksToSignInAgain) {
  const std::string id = signed_in();
  ASSERT_EQ(call("PUT", "/api/v1/connections/fab", with_signin(connection(), id).dump()).status, 200);
  json moved = connection();
  moved["server_url"] = "https://tfs.example.com/tfs";
  auto r = call("PUT", "/api/v1/connections/fab", moved.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(code_of(r), "secret_not_carried");
  EXPECT_NE(body_of(r)["error"]["message"].get<std::string>().find("press Sign in again"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace tracklight::firmware
