// Jira OAuth 2.0 through the API, as the dialog and the callback page drive it: Sign in gives
// the consent page's address (its state is the sign-in's id), the browser's landing address is
// handed back, the agent exchanges the code, and Test and Connect use the sign-in. Jira Cloud
// goes through Atlassian's hosts and API gateway; Data Center through its own provider, PKCE.
#include "platform/crypto.hpp"
#include "tests/unit/api_fixture.hpp"

namespace tracklight::firmware {
namespace {

const char* kDialog = "dialog-0123456789abcdef";
const char* kCloudId = "1324a887-45db-1bf4-1e99-ef0ff456d421";

std::string param(const std::string& url, const std::string& name) {
  const size_t at = url.find((url.find('?' + name + '=') != std::string::npos ? "?" : "&") + name + "=");
  if (at == std::string::npos) return "<absent>";
  const size_t from = at + name.size() + 2;
  return url.substr(from, url.find('&', from) - from);
}

struct JiraOAuth2Test : ApiTest {
  bool cloud = true;
  std::string version = "[9,12,2]";
  std::string sites = R"([{"id":"1324a887-45db-1bf4-1e99-ef0ff456d421","name":"fabrikam","url":"https://fabrikam.atlassian.net",)"
                      R"("scopes":["read:jira-work"],"avatarUrl":"https://a.example/x.png"}])";
  std::string refresh_answer = R"({"access_token":"AT-RENEWED","expires_in":3600,"refresh_token":"RT-ROTATED"})";
  std::vector<json> token_posts;  // JSON (Cloud) or the form (Data Center), as posted

  void SetUp() override {
    ApiTest::SetUp();
    set_up_admin();
    https.respond = [this](const std::string& path) {
      if (path.find("serverInfo") != std::string::npos && !cloud)
        return test::json_answer(200, R"({"version":"9.12.2","versionNumbers":)" + version + R"(,"deploymentType":"Server"})");
      if (path == "/oauth/token/accessible-resources") return test::json_answer(200, sites);
      std::string bearer;
      for (const auto& h : https.requests.back().headers)
        if (h.first == "Authorization") bearer = h.second;
      if (path.find("myself") != std::string::npos && bearer == "Bearer AT-OF-BOB")
        return test::json_answer(200, R"({"name":"bob","emailAddress":"bob@example.com","displayName":"Bob"})");
      if (path.find("myself") != std::string::npos && !cloud)
        return test::json_answer(200, R"({"name":"mia","displayName":"Mia"})");
      return test::happy_jira_cloud(path);
    };
    https.respond_post = [this](const std::string& path, const std::string& body) {
      json posted = json::parse(body, nullptr, false);
      if (posted.is_discarded()) {  // a form: name=value pairs
        posted = json::object();
        for (size_t at = 0; at < body.size();) {
          const size_t end = std::min(body.find('&', at), body.size());
          const std::string kv = body.substr(at, end - at);
          posted[kv.substr(0, kv.find('='))] = kv.substr(kv.find('=') + 1);
          at = end + 1;
        }
      }
      token_posts.push_back(posted);
      if (path != (cloud ? "/oauth/token" : "/jira/rest/oauth2/latest/token")) return test::json_answer(404, "{}");
      if (posted["grant_type"] == "refresh_token") return test::json_answer(refresh_answer.find("error") != std::string::npos ? 403 : 200, refresh_answer);
      if (posted["code"] == "CODE-OF-BOB")
        return test::json_answer(200, R"({"access_token":"AT-OF-BOB","expires_in":3600,"refresh_token":"RT-OF-BOB"})");
      if (posted["code"] != "CODE-FROM-CONSENT")
        return test::json_answer(403, R"({"error":"invalid_grant","error_description":"Invalid authorization code"})");
      return test::json_answer(200, R"({"access_token":"AT-FROM-CODE","expires_in":3600,"token_type":"Bearer",)"
                                    R"("refresh_token":"RT-CANARY-FIRST"})");
    };
  }
  json connection() const {
    return {{"name", "Fabrikam"}, {"provider", "jira"}, {"auth", "oauth2"},
            {"server_url", cloud ? "https://fabrikam.atlassian.net" : "https://jira.fabrikam.example/jira"},
            {"client_id", "Zx9QkT2mW4pR7vB1nC3dE5fG8hJ0kL6m"}, {"client_secret", "CANARY-CLIENT-SECRET"},
            {"redirect_uri", "https://kiosk.local:8443/oauth/callback"},
            {"headers", json::array({{{"name", "X-Service-Token"}, {"value", "CANARY-HEADER"}}})}};
  }
  json start(const json& conn) {
    auto r = call("POST", "/api/v1/signin", json{{"connection", conn}, {"dialog", kDialog}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return body_of(r);
  }
  // The address the consent page sends the browser to.
  static std::string landing(const std::string& state, const std::string& rest = "code=CODE-FROM-CONSENT") {
    return "https://kiosk.local:8443/oauth/callback?" + rest + "&state=" + state;
  }
  HttpResponse hand_back(const std::string& id, const std::string& url) {
    return call("POST", "/api/v1/signin/" + id, json{{"url", url}}.dump());
  }
  static json with_signin(json conn, const std::string& id) {
    conn["signin"] = id;
    conn["dialog"] = kDialog;
    return conn;
  }
  std::string signed_in() {
    const std::string id = start(connection())["id"];
    auto r = hand_back(id, landing(id));
    EXPECT_EQ(body_of(r)["state"], "complete") << r.body;
    return id;
  }
  size_t requests_to(const std::string& host, const std::string& path_part) const {
    size_t n = 0;
    for (const auto& r : https.requests) n += r.host == host && r.path.find(path_part) != std::string::npos;
    return n;
  }
};

TEST_F(JiraOAuth2Test, CloudSignsInThroughAtlassianAndCallsTheGateway) {
  const json offer = start(connection());
  ASSERT_EQ(offer["state"], "waiting") << offer.dump();
  const std::string id = offer["id"], url = offer["authorize_url"];
  EXPECT_EQ(url.rfind("https://auth.atlassian.com/authorize?", 0), 0u) << url;
  EXPECT_EQ(param(url, "audience"), "api.atlassian.com");
  EXPECT_EQ(param(url, "client_id"), "Zx9QkT2mW4pR7vB1nC3dE5fG8hJ0kL6m");
  EXPECT_EQ(param(url, "scope"), "read%3Ajira-work%20read%3Ajira-user%20offline_access");
  EXPECT_EQ(param(url, "redirect_uri"), "https%3A%2F%2Fkiosk.local%3A8443%2Foauth%2Fcallback");
  EXPECT_EQ(param(url, "state"), id);
  EXPECT_EQ(param(url, "response_type"), "code");
  EXPECT_EQ(param(url, "prompt"), "consent");
  EXPECT_EQ(param(url, "code_challenge"), "<absent>") << "Atlassian Cloud offers no PKCE";
  EXPECT_EQ(url.find("CANARY"), std::string::npos);

  const json done = body_of(hand_back(id, landing(id)));
  ASSERT_EQ(done["state"], "complete") << done.dump();
  EXPECT_EQ(done["sites"][0]["url"], "https://fabrikam.atlassian.net");
  EXPECT_EQ(done["account"], "mia@example.com") << "myself through the gateway names who signed in";
  EXPECT_EQ(done.dump().find("RT-CANARY"), std::string::npos);
  EXPECT_EQ(done.dump().find("AT-FROM-CODE"), std::string::npos);
  ASSERT_EQ(token_posts.size(), 1u);
  EXPECT_EQ(token_posts[0], (json{{"grant_type", "authorization_code"}, {"client_id", "Zx9QkT2mW4pR7vB1nC3dE5fG8hJ0kL6m"},
                                  {"client_secret", "CANARY-CLIENT-SECRET"}, {"code", "CODE-FROM-CONSENT"},
                                  {"redirect_uri", "https://kiosk.local:8443/oauth/callback"}}));
  EXPECT_EQ(requests_to("auth.atlassian.com", "/oauth/token"), 1u);
  EXPECT_EQ(requests_to("api.atlassian.com", "/oauth/token/accessible-resources"), 1u);
  EXPECT_EQ(requests_to("api.atlassian.com", std::string("/ex/jira/") + kCloudId + "/rest/api/2/myself"), 1u);

  https.requests.clear();
  auto put = call("PUT", "/api/v1/connections/fabrikam", with_signin(connection(), id).dump());
  ASSERT_EQ(put.status, 200) << put.body;
  const Connection* saved = agent->state().config.find("fabrikam");
  ASSERT_NE(saved, nullptr);
  EXPECT_EQ(saved->refresh_token, "RT-CANARY-FIRST");
  EXPECT_EQ(saved->cloud_id, kCloudId);
  EXPECT_EQ(body_of(put)["connection"]["cloud_id"], kCloudId);
  EXPECT_EQ(put.body.find("RT-CANARY"), std::string::npos);
  // Every tracker call of the Test went to the gateway with the Bearer token, and the server's
  // custom header (a secret of the server) stayed home.
  size_t gateway = 0;
  for (const auto& r : https.requests) {
    EXPECT_EQ(r.host, "api.atlassian.com") << r.path;
    if (r.path.rfind(std::string("/ex/jira/") + kCloudId + "/rest/api/", 0) == 0) ++gateway;
    for (const auto& h : r.headers) {
      EXPECT_NE(h.first, "X-Service-Token") << r.path;
      if (h.first == "Authorization") {
        EXPECT_EQ(h.second, "Bearer AT-FROM-CODE") << r.path;
      }
    }
  }
  EXPECT_GE(gateway, 2u);
  EXPECT_EQ(token_posts.size(), 1u) << "the sign-in's access token was used, not renewed";
}

TEST_F(JiraOAuth2Test, AWrongOrReplayedStateIsRefused) {
  const std::string id = start(connection())["id"];
  auto foreign = hand_back(id, landing("0123456789abcdef0123456789abcdef"));
  EXPECT_EQ(foreign.status, 422);
  EXPECT_NE(body_of(foreign)["error"]["message"].get<std::string>().find("another sign-in"), std::string::npos) << foreign.body;
  EXPECT_EQ(hand_back(id, "https://kiosk.local:8443/elsewhere?code=CODE-FROM-CONSENT&state=" + id).status, 422);
  EXPECT_EQ(hand_back(id, landing(id, "nothing=here")).status, 422);
  EXPECT_EQ(hand_back(id, landing("0123456789abcdef0123456789abcdef", "error=access_denied")).status, 422)
      << "a refusal for another sign-in does not end this one";
  EXPECT_TRUE(token_posts.empty()) << "no code was exchanged for a wrong address";
  // The browser writes the registered callback in its own way (host case, the default port).
  EXPECT_EQ(hand_back(id, "https://KIOSK.local:8443/oauth/callback/?code=bad&state=0").status, 422);
  // The right address still works; then it cannot be used again.
  EXPECT_EQ(body_of(hand_back(id, landing(id)))["state"], "complete");
  auto replay = hand_back(id, landing(id));
  EXPECT_EQ(replay.status, 409);
  EXPECT_EQ(code_of(replay), "signin_used");
  EXPECT_EQ(token_posts.size(), 1u);
  // A state of no sign-in, or of another session's, is not found.
  EXPECT_EQ(hand_back("0123456789abcdef0123456789abcdef", landing("0123456789abcdef0123456789abcdef")).status, 404);
  const std::string mine = cookie, my_csrf = csrf;
  take_session(call("POST", "/api/v1/login", json{{"password", "correct horse"}}.dump(), {{"Cookie", ""}, {"X-CSRF-Token", ""}}));
  const std::string other = start(connection())["id"];
  cookie = mine, csrf = my_csrf;
  EXPECT_EQ(hand_back(other, landing(other)).status, 404) << "another session's sign-in";
}

TEST_F(JiraOAuth2Test, RefusedConsentFailsTheSignInWithItsReason) {
  const std::string id = start(connection())["id"];
  const json r = body_of(hand_back(id, landing(id, "error=access_denied&error_description=User%20did%20not%20authorize%20the%20request")));
  EXPECT_EQ(r["state"], "failed");
  EXPECT_NE(r["error"]["message"].get<std::string>().find("User did not authorize the request"), std::string::npos) << r.dump();
  EXPECT_NE(r["error"]["hint"].get<std::string>().find("Accept"), std::string::npos);
  EXPECT_TRUE(token_posts.empty());
}

TEST_F(JiraOAuth2Test, ACodeTheServiceRefusesFailsTheSignIn) {
  const std::string id = start(connection())["id"];
  const json r = body_of(hand_back(id, landing(id, "code=EXPIRED-CODE")));
  EXPECT_EQ(r["state"], "failed");
  EXPECT_NE(r["error"]["message"].get<std::string>().find("refused the code"), std::string::npos) << r.dump();
}

TEST_F(JiraOAuth2Test, TheSiteMustBeOneThePersonAllowed) {
  sites = R"([{"id":"aaaa-1","name":"Contoso","url":"https://contoso.atlassian.net"},)"
          R"({"id":"bbbb-2","name":"Tailspin","url":"https://tailspin.atlassian.net"}])";
  const std::string id = signed_in();
  auto refused = call("POST", "/api/v1/connections/test", with_signin(connection(), id).dump());
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(code_of(refused), "signin_site");
  EXPECT_NE(refused.body.find("https://tailspin.atlassian.net"), std::string::npos) << refused.body;
  // The person picks one of them: its site id is used, on the gateway.
  json conn = connection();
  conn["server_url"] = "https://tailspin.atlassian.net";
  https.requests.clear();
  auto put = call("PUT", "/api/v1/connections/tailspin", with_signin(conn, id).dump());
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(agent->state().config.find("tailspin")->cloud_id, "bbbb-2");
  EXPECT_GE(requests_to("api.atlassian.com", "/ex/jira/bbbb-2/rest/api/2/myself"), 1u);
}

TEST_F(JiraOAuth2Test, ARotatedRefreshTokenIsSavedBeforeUseAndARevokedOneAsksToSignInAgain) {
  const std::string id = signed_in();
  ASSERT_EQ(call("PUT", "/api/v1/connections/fabrikam", with_signin(connection(), id).dump()).status, 200);
  clock.now_ms += 3600 * 1000;  // the access token is due
  token_posts.clear();
  auto test = call("POST", "/api/v1/connections/test", json{{"id", "fabrikam"}, {"name", "Fabrikam"}, {"provider", "jira"},
                                                          {"auth", "oauth2"}, {"server_url", "https://fabrikam.atlassian.net"},
                                                          {"client_id", "Zx9QkT2mW4pR7vB1nC3dE5fG8hJ0kL6m"},
                                                          {"redirect_uri", "https://kiosk.local:8443/oauth/callback"}}
                                                        .dump());
  EXPECT_EQ(body_of(test)["status"], "authorized") << test.body;
  ASSERT_EQ(token_posts.size(), 1u);
  EXPECT_EQ(token_posts[0], (json{{"grant_type", "refresh_token"}, {"client_id", "Zx9QkT2mW4pR7vB1nC3dE5fG8hJ0kL6m"},
                                  {"client_secret", "CANARY-CLIENT-SECRET"}, {"refresh_token", "RT-CANARY-FIRST"}}));
  EXPECT_EQ(agent->state().config.find("fabrikam")->refresh_token, "RT-ROTATED") << "saved with the connection";
  EXPECT_NE(fs.files["state/tracklight.conf"].find("refresh_token"), std::string::npos);

  clock.now_ms += 3600 * 1000;
  refresh_answer = R"({"error":"invalid_grant","error_description":"Unknown or invalid refresh token."})";
  auto revoked = call("POST", "/api/v1/connections/test", json{{"id", "fabrikam"}, {"name", "Fabrikam"}, {"provider", "jira"},
                                                             {"auth", "oauth2"}, {"server_url", "https://fabrikam.atlassian.net"},
                                                             {"client_id", "Zx9QkT2mW4pR7vB1nC3dE5fG8hJ0kL6m"},
                                                             {"redirect_uri", "https://kiosk.local:8443/oauth/callback"}}
                                                           .dump());
  const json rep = body_of(revoked);
  EXPECT_EQ(rep["status"], "not-authorized") << revoked.body;
  EXPECT_NE(revoked.body.find("expired or was revoked"), std::string::npos) << revoked.body;
  EXPECT_NE(revoked.body.find("press Sign in"), std::string::npos) << revoked.body;
}

TEST_F(JiraOAuth2Test, DataCenterUsesItsOwnProviderWithPkceAndCustomHeaders) {
  cloud = false;
  const json offer = start(connection());
  const std::string id = offer["id"], url = offer["authorize_url"];
  EXPECT_EQ(url.rfind("https://jira.fabrikam.example/jira/rest/oauth2/latest/authorize?", 0), 0u) << url;
  EXPECT_EQ(param(url, "scope"), "READ");
  EXPECT_EQ(param(url, "state"), id);
  EXPECT_EQ(param(url, "code_challenge_method"), "S256");
  const std::string challenge = param(url, "code_challenge");
  EXPECT_EQ(challenge.size(), 43u);

  const json done = body_of(hand_back(id, landing(id)));
  ASSERT_EQ(done["state"], "complete") << done.dump();
  EXPECT_EQ(done["account"], "mia");
  ASSERT_EQ(token_posts.size(), 1u);
  const std::string verifier = token_posts[0]["code_verifier"];
  EXPECT_EQ(verifier.size(), 43u);
  EXPECT_EQ(platform::base64url_encode(platform::sha256(verifier)), challenge) << "the verifier is the one the challenge was made from";
  EXPECT_EQ(offer.dump().find(verifier), std::string::npos) << "the verifier stays in the agent";
  EXPECT_EQ(token_posts[0]["client_secret"], "CANARY-CLIENT-SECRET");
  EXPECT_EQ(token_posts[0]["redirect_uri"], "https%3A%2F%2Fkiosk.local%3A8443%2Foauth%2Fcallback");
  bool header = false;
  for (const auto& r : https.requests)
    if (r.method == "POST")
      for (const auto& h : r.headers) header = header || (h.first == "X-Service-Token" && h.second == "CANARY-HEADER");
  EXPECT_TRUE(header) << "custom headers go to the token endpoint too";

  ASSERT_EQ(call("PUT", "/api/v1/connections/fabrikam", with_signin(connection(), id).dump()).status, 200);
  EXPECT_EQ(agent->state().config.find("fabrikam")->cloud_id, "");
  clock.now_ms += 3600 * 1000;
  token_posts.clear();
  json again = connection();
  again.erase("client_secret");
  again.erase("headers");
  again["headers"] = json::array({{{"name", "X-Service-Token"}}});
  again["id"] = "fabrikam";
  auto test = call("POST", "/api/v1/connections/test", again.dump());
  EXPECT_EQ(body_of(test)["status"], "authorized") << test.body;
  ASSERT_EQ(token_posts.size(), 1u);
  EXPECT_EQ(token_posts[0]["grant_type"], "refresh_token");
  EXPECT_EQ(token_posts[0]["redirect_uri"], "https%3A%2F%2Fkiosk.local%3A8443%2Foauth%2Fcallback") << "the refresh repeats it";
  size_t posts_with_header = 0, posts = 0;
  for (const auto& r : https.requests) {
    EXPECT_EQ(r.host.find("atlassian"), std::string::npos) << "Data Center never involves Atlassian's hosts: " << r.host;
    if (r.method != "POST") continue;
    ++posts;
    for (const auto& h : r.headers) posts_with_header += h.first == "X-Service-Token" && h.second == "CANARY-HEADER";
  }
  EXPECT_EQ(posts_with_header, posts) << "the refresh grant carries the custom headers too";
}

TEST_F(JiraOAuth2Test, OldDataCenterIsToldOAuth2NeedsVersion822) {
  cloud = false;
  version = "[8,20,1]";
  const json r = start(connection());
  EXPECT_EQ(r["state"], "failed");
  EXPECT_NE(r["error"]["message"].get<std::string>().find("8.22"), std::string::npos) << r.dump();
}

TEST_F(JiraOAuth2Test, TheCallbackUrlMustBeHttpsOrLocalhost) {
  json conn = connection();
  conn["redirect_uri"] = "http://kiosk.lan:8080/oauth/callback";
  auto r = call("POST", "/api/v1/signin", json{{"connection", conn}, {"dialog", kDialog}}.dump());
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("redirect_uri"), std::string::npos) << r.body;
  conn["redirect_uri"] = "http://localhost:8765/cb";
  EXPECT_EQ(call("POST", "/api/v1/signin", json{{"connection", conn}, {"dialog", kDialog}}.dump()).status, 200);
}

TEST_F(JiraOAuth2Test, TheCallbackPathServesThePage) {
  auto r = call("GET", "/oauth/callback?code=x&state=y", "", {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type.rfind("text/html", 0), 0u);
}

TEST_F(JiraOAuth2Test, ATestedSignInOfAnotherAccountDoesNotReachTheStoredConnection) {
  const std::string mia = signed_in();
  ASSERT_EQ(call("PUT", "/api/v1/connections/fabrikam", with_signin(connection(), mia).dump()).status, 200);
  // Bob signs in in the dialog of the stored connection and Tests, then closes the dialog.
  const std::string bob = start(connection())["id"];
  const json done = body_of(hand_back(bob, landing(bob, "code=CODE-OF-BOB")));
  ASSERT_EQ(done["account"], "bob@example.com") << done.dump();
  json draft = with_signin(connection(), bob);
  draft["id"] = "fabrikam";
  ASSERT_EQ(call("POST", "/api/v1/connections/test", draft.dump()).status, 200);
  https.requests.clear();
  json stored = connection();
  stored.erase("client_secret");
  stored.erase("headers");
  stored["id"] = "fabrikam";
  ASSERT_EQ(call("POST", "/api/v1/connections/test", stored.dump()).status, 200);
  for (const auto& r : https.requests)
    for (const auto& h : r.headers)
      if (h.first == "Authorization") {
        EXPECT_EQ(h.second, "Bearer AT-FROM-CODE") << "the stored connection used Bob's unsaved sign-in: " << r.path;
      }
}

TEST_F(JiraOAuth2Test, ASecretTypedAfterTheSignInIsNotSavedUntried) {
  const std::string id = signed_in();
  json conn = connection();
  conn["client_secret"] = "CANARY-ANOTHER-SECRET";
  auto r = call("PUT", "/api/v1/connections/fabrikam", with_signin(conn, id).dump());
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(code_of(r), "signin_settings_changed");
  conn = connection();
  conn["headers"] = json::array({{{"name", "X-Service-Token"}, {"value", "CANARY-OTHER-HEADER"}}});
  EXPECT_EQ(call("PUT", "/api/v1/connections/fabrikam", with_signin(conn, id).dump()).status, 409);
  EXPECT_EQ(call("PUT", "/api/v1/connections/fabrikam", with_signin(connection(), id).dump()).status, 200);
}

TEST_F(JiraOAuth2Test, AnotherAppOrCallbackDoesNotKeepTheStoredSignIn) {
  const std::string id = signed_in();
  ASSERT_EQ(call("PUT", "/api/v1/connections/fabrikam", with_signin(connection(), id).dump()).status, 200);
  for (auto change : {json{{"redirect_uri", "http://localhost:8765/cb"}}, json{{"client_id", "AnotherApp0123456789"}}}) {
    json conn = connection();
    conn.erase("client_secret");
    conn.erase("headers");
    conn["id"] = "fabrikam";
    conn.update(change);
    auto r = call("POST", "/api/v1/connections/test", conn.dump());
    EXPECT_EQ(r.status, 400) << change.dump() << r.body;
    EXPECT_NE(r.body.find("refresh_token"), std::string::npos) << r.body;
  }
}

TEST_F(JiraOAuth2Test, ARenewalWithoutANewRefreshTokenKeepsTheOldOne) {
  const std::string id = signed_in();
  ASSERT_EQ(call("PUT", "/api/v1/connections/fabrikam", with_signin(connection(), id).dump()).status, 200);
  refresh_answer = R"({"access_token":"AT-RENEWED","expires_in":3600})";
  clock.now_ms += 3600 * 1000;
  json stored = connection();
  stored.erase("client_secret");
  stored.erase("headers");
  stored["id"] = "fabrikam";
  EXPECT_EQ(body_of(call("POST", "/api/v1/connections/test", stored.dump()))["status"], "authorized");
  ASSERT_EQ(token_posts.size(), 2u);
  EXPECT_EQ(agent->state().config.find("fabrikam")->refresh_token, "RT-CANARY-FIRST");
}

TEST_F(JiraOAuth2Test, ALandingAfterTenMinutesEndsTheSignIn) {
  const std::string id = start(connection())["id"];
  clock.now_ms += 10 * 60 * 1000;
  const json r = body_of(hand_back(id, landing(id)));
  EXPECT_EQ(r["state"], "failed");
  EXPECT_NE(r["error"]["message"].get<std::string>().find("10 minutes"), std::string::npos) << r.dump();
  EXPECT_TRUE(token_posts.empty());
  // The dialog polling a sign-in whose time ran out is told the same.
  const std::string polled = start(connection())["id"];
  clock.now_ms += 10 * 60 * 1000;
  const json p = body_of(call("GET", "/api/v1/signin/" + polled + "?dialog=" + kDialog));
  EXPECT_EQ(p["state"], "failed");
  EXPECT_NE(p["error"]["message"].get<std::string>().find("10 minutes"), std::string::npos) << p.dump();
}

}  // namespace
}  // namespace tracklight::firmware
