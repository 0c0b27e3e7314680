// The HTTP API handlers, called directly (no sockets): gates, setup, login, connections.
#include "tests/unit/api_fixture.hpp"
#include "firmware/web/assets.hpp"

namespace tracklight::firmware {
namespace {

TEST_F(ApiTest, FirstRunNeedsTheSetupCodeAndItIsNeverAnswered) {
  EXPECT_EQ(code_of(call("GET", "/api/v1/connections")), "setup_required");
  EXPECT_EQ(code_of(call("GET", "/api/v1/session")), "setup_required");
  const std::string code = agent->state().setup_code;
  EXPECT_EQ(fs.files["state/setup-code"], code + "\n");
  auto wrong = call("POST", "/api/v1/setup", json{{"setup_code", "AAAAA-AAAAA"}, {"password", "correct horse"}}.dump());
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(wrong.body.find(code), std::string::npos);
  auto missing = call("POST", "/api/v1/setup", json{{"password", "correct horse"}}.dump());
  EXPECT_EQ(missing.status, 403);
  auto weak = call("POST", "/api/v1/setup", json{{"setup_code", code}, {"password", "short"}}.dump());
  EXPECT_EQ(weak.status, 400);
  EXPECT_EQ(body_of(weak)["error"]["field"], "password");
  set_up_admin();
  EXPECT_FALSE(fs.exists("state/setup-code"));
  auto again = call("POST", "/api/v1/setup", json{{"setup_code", code}, {"password", "another one"}}.dump());
  EXPECT_EQ(again.status, 403);
  EXPECT_EQ(code_of(again), "already_set_up");
  EXPECT_EQ(fs.files["state/tracklight.conf"].find("correct horse"), std::string::npos);
}

TEST_F(ApiTest, SetupCodeGuessingIsThrottled) {
  int last = 0;
  for (int i = 0; i < 7; ++i)
    last = call("POST", "/api/v1/setup", json{{"setup_code", "AAAAA-AAAAA"}, {"password", "correct horse"}}.dump()).status;
  EXPECT_EQ(last, 429);
}

TEST_F(ApiTest, LoginSessionAndLogout) {
  set_up_admin();
  cookie.clear();
  csrf.clear();
  EXPECT_EQ(code_of(call("GET", "/api/v1/connections")), "not_logged_in");
  auto bad = call("POST", "/api/v1/login", json{{"password", "wrong horse!!"}}.dump());
  EXPECT_EQ(bad.status, 401);
  auto good = call("POST", "/api/v1/login", json{{"password", "correct horse"}}.dump());
  ASSERT_EQ(good.status, 200);
  EXPECT_NE(header_of(good, "Set-Cookie").find("HttpOnly; SameSite=Strict"), std::string::npos);
  take_session(good);
  auto session = call("GET", "/api/v1/session");
  EXPECT_EQ(body_of(session)["csrf_token"], csrf);
  EXPECT_EQ(call("GET", "/api/v1/connections").status, 200);
  EXPECT_EQ(call("POST", "/api/v1/logout", "{}").status, 200);
  EXPECT_EQ(call("GET", "/api/v1/connections").status, 401);
}

TEST_F(ApiTest, LoginRateLimitIsPerClient) {
  set_up_admin();
  for (int i = 0; i < LoginThrottle::kFreeAttempts; ++i)
    EXPECT_EQ(call("POST", "/api/v1/login", json{{"password", "wrong horse!!"}}.dump()).status, 401);
  auto limited = call("POST", "/api/v1/login", json{{"password", "correct horse"}}.dump());
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(header_of(limited, "Retry-After"), "1");
  clock.now_ms += 1000;
  EXPECT_EQ(call("POST", "/api/v1/login", json{{"password", "correct horse"}}.dump()).status, 200);
}

TEST_F(ApiTest, WritesNeedCsrfTokenAndSameOrigin) {
  set_up_admin();
  const std::string body = jira_body().dump();
  auto no_token = call("PUT", "/api/v1/connections/jira", body, {{"X-CSRF-Token", "nope"}});
  EXPECT_EQ(no_token.status, 403);
  EXPECT_EQ(code_of(no_token), "csrf_token_invalid");
  auto cross = call("PUT", "/api/v1/connections/jira", body, {{"Origin", "http://evil.example"}});
  EXPECT_EQ(cross.status, 403);
  EXPECT_EQ(call("PUT", "/api/v1/connections/jira", body, {{"Sec-Fetch-Site", "cross-site"}}).status, 403);
  auto form = call("PUT", "/api/v1/connections/jira", body, {{"Content-Type", "text/plain"}});
  EXPECT_EQ(form.status, 415);
  auto same = call("PUT", "/api/v1/connections/jira", body, {{"Origin", "http://127.0.0.1:8080"}});
  EXPECT_EQ(same.status, 200) << same.body;
  EXPECT_EQ(call("POST", "/api/v1/login", "{\"password\":\"x\"}", {{"Origin", "http://evil.example"}}).status, 403);
}

TEST_F(ApiTest, ForeignHostIsRefusedOnEveryRoute) {
  for (const char* host : {"evil.example", "evil.example:8080", "localhost.evil.example", "127.0.0.1.nip.io", "",
                           "127.0.0.1:80x", "[::1"}) {
    for (const char* path : {"/", "/app.js", "/healthz", "/api/v1/session", "/api/v1/connections"}) {
      auto r = call("GET", path, "", {{"Host", host}});
      EXPECT_EQ(r.status, 421) << host << " " << path;
    }
  }
  for (const char* host : {"127.0.0.1:8080", "[::1]:8080", "localhost", "kiosk", "KIOSK.local:8080", "10.1.2.3"})
    EXPECT_EQ(call("GET", "/healthz", "", {{"Host", host}}).status, 200) << host;
}

// The Host check reads IP literals as the socket layer does (platform/net_address.hpp).
TEST_F(ApiTest, HostCheckAcceptsOnlyRealIpLiterals) {
  for (const char* host : {"[1:2]", "[1:2]:8080", "01.2.3.4", "0127.0.0.1:8080", "[fe80::1%eth0]", "256.1.1.1"})
    EXPECT_EQ(call("GET", "/healthz", "", {{"Host", host}}).status, 421) << host;
  for (const char* host : {"[::ffff:10.1.2.3]:8080", "[fe80::1]", "192.168.1.20:8080"})
    EXPECT_EQ(call("GET", "/healthz", "", {{"Host", host}}).status, 200) << host;
}

TEST_F(ApiTest, EveryNonPublicRouteIsGated) {
  // Walks the route table itself, so a route added later without a gate fails here.
  set_up_admin();
  std::string saved_cookie = cookie;
  cookie.clear();
  csrf.clear();
  for (const Route* r = routes_begin(); r != routes_end(); ++r) {
    std::string path = r->path;
    if (path.size() > 4 && path.substr(path.size() - 4) == "{id}") path.replace(path.size() - 4, 4, "x");
    auto res = call(r->method, path, std::string(r->method) == "GET" ? "" : "{}");
    if (r->access == Access::Public) {
      EXPECT_EQ(res.status, 200) << path;
    } else if (r->access == Access::Admin || r->access == Access::Board) {
      // The board from a LAN address with neither session nor key is refused like the admin API.
      EXPECT_TRUE(res.status == 401 || res.status == 403) << r->method << " " << path << " " << res.status;
    } else {
      // Setup-phase routes answer without a session, but give nothing away once set up.
      ASSERT_EQ(r->access, Access::SetupPhase) << path;
      EXPECT_GE(res.status, 400) << r->method << " " << path << " " << res.status;
      EXPECT_EQ(header_of(res, "Set-Cookie"), "") << path;
    }
  }
  // A valid session without the CSRF token still cannot write.
  cookie = saved_cookie;
  for (const Route* r = routes_begin(); r != routes_end(); ++r) {
    if (r->access != Access::Admin || std::string(r->method) == "GET") continue;
    std::string path = r->path;
    if (path.substr(path.size() - 4) == "{id}") path.replace(path.size() - 4, 4, "x");
    EXPECT_EQ(call(r->method, path, "{}").status, 403) << path;
  }
}

TEST_F(ApiTest, ConnectStoresAndReadsBackWithoutSecrets) {
  set_up_admin();
  auto put = call("PUT", "/api/v1/connections/jira", jira_body().dump());
  ASSERT_EQ(put.status, 200) << put.body;
  json j = body_of(put);
  EXPECT_EQ(j["connection"]["status"], "authorized");
  EXPECT_EQ(j["report"]["status"], "authorized");
  for (const auto& r : {call("GET", "/api/v1/connections"), call("GET", "/api/v1/connections/jira"),
                        call("GET", "/api/v1/status"), put}) {
    EXPECT_EQ(r.body.find("CANARY"), std::string::npos) << r.body;
  }
  json got = body_of(call("GET", "/api/v1/connections/jira"));
  EXPECT_EQ(got["secrets"]["api_key"], true);
  EXPECT_EQ(got["secrets"]["password"], false);
  EXPECT_EQ(got["headers"][0], json({{"name", "X-Service-Token"}}));
  EXPECT_EQ(got["board"]["jql"], "project = OPS");
  EXPECT_EQ(got["check_interval_s"], 300);
  for (const auto& line : log.lines()) EXPECT_EQ(line.find("CANARY"), std::string::npos) << line;
  EXPECT_EQ(fs.files["state/tracklight.conf"].find("CANARY"), std::string::npos);
}

TEST_F(ApiTest, OmittedSecretsAreKeptEmptyClearsThem) {
  set_up_admin();
  ASSERT_EQ(call("PUT", "/api/v1/connections/jira", jira_body().dump()).status, 200);
  json edit = jira_body();
  edit.erase("api_key");
  edit["headers"] = json::array({{{"name", "X-Service-Token"}}});
  edit["name"] = "Renamed";
  ASSERT_EQ(call("PUT", "/api/v1/connections/jira", edit.dump()).status, 200);
  const Connection* c = agent->state().config.find("jira");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->api_key, "CANARY-API-KEY");
  EXPECT_EQ(c->headers[0].value, "CANARY-HEADER");
  EXPECT_EQ(c->name, "Renamed");
  edit["api_key"] = "";
  auto cleared = call("PUT", "/api/v1/connections/jira", edit.dump());
  EXPECT_EQ(cleared.status, 422);  // API-key auth without a key is not valid
  EXPECT_EQ(body_of(cleared)["report"]["checks"][0]["errors"][0]["field"], "api_key");
}

TEST_F(ApiTest, BadRequestsNameTheField) {
  set_up_admin();
  json j = jira_body();
  j["colour"] = "blue";
  auto unknown = call("PUT", "/api/v1/connections/jira", j.dump());
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(body_of(unknown)["error"]["field"], "colour");
  j = jira_body();
  j["board"]["speed"] = 1;
  EXPECT_EQ(body_of(call("PUT", "/api/v1/connections/jira", j.dump()))["error"]["field"], "board.speed");
  j = jira_body();
  j["check_interval_s"] = 3;
  EXPECT_EQ(body_of(call("PUT", "/api/v1/connections/jira", j.dump()))["error"]["field"], "check_interval_s");
  j = jira_body();
  j["active"] = "yes";
  EXPECT_EQ(body_of(call("PUT", "/api/v1/connections/jira", j.dump()))["error"]["field"], "active");
  EXPECT_EQ(call("PUT", "/api/v1/connections/Bad_Id", jira_body().dump()).status, 400);
  EXPECT_EQ(code_of(call("PUT", "/api/v1/connections/jira", "{not json")), "bad_json");
  EXPECT_EQ(code_of(call("PUT", "/api/v1/connections/jira", std::string(40, '[') + std::string(40, ']'))), "bad_json");
  j = jira_body();
  j["id"] = "other";
  EXPECT_EQ(body_of(call("PUT", "/api/v1/connections/jira", j.dump()))["error"]["field"], "id");
  j = jira_body();
  j["server_url"] = "http://example.atlassian.net";
  auto invalid = call("PUT", "/api/v1/connections/jira", j.dump());
  EXPECT_EQ(invalid.status, 422);
  EXPECT_EQ(body_of(invalid)["report"]["status"], "invalid");
  EXPECT_EQ(body_of(invalid)["report"]["checks"][0]["errors"][0]["field"], "server_url");
  EXPECT_TRUE(agent->state().config.connections.empty());
}

TEST_F(ApiTest, UnavailableAuthMethodsAreRefusedClearly) {
  set_up_admin();
  json j = jira_body();
  j["auth"] = "oauth1";
  auto r = call("PUT", "/api/v1/connections/jira", j.dump());
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("not available in this version"), std::string::npos);
}

TEST_F(ApiTest, TestSavesNothingAndUsesStoredSecrets) {
  set_up_admin();
  ASSERT_EQ(call("PUT", "/api/v1/connections/jira", jira_body().dump()).status, 200);
  std::string before = fs.files["state/tracklight.conf"];
  json j = jira_body();
  j.erase("api_key");
  j["id"] = "jira";
  auto r = call("POST", "/api/v1/connections/test", j.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r)["checks"][0]["result"], "pass");
  j.erase("id");
  json without = body_of(call("POST", "/api/v1/connections/test", j.dump()));
  EXPECT_EQ(without["status"], "invalid");
  EXPECT_EQ(fs.files["state/tracklight.conf"], before);
}

TEST_F(ApiTest, FailedSaveChangesNothingAndSaysWhy) {
  set_up_admin();
  ASSERT_EQ(call("PUT", "/api/v1/connections/jira", jira_body().dump()).status, 200);
  std::string before = fs.files["state/tracklight.conf"];
  fs.fail_writes_errno = ENOSPC;
  json j = jira_body();
  j["name"] = "Changed";
  auto r = call("PUT", "/api/v1/connections/jira", j.dump());
  EXPECT_EQ(r.status, 507);
  EXPECT_NE(body_of(r)["error"]["message"].get<std::string>().find("No space left"), std::string::npos);
  EXPECT_EQ(agent->state().config.find("jira")->name, "Team Jira");
  EXPECT_EQ(call("DELETE", "/api/v1/connections/jira").status, 507);
  EXPECT_NE(agent->state().config.find("jira"), nullptr);
  EXPECT_EQ(fs.files["state/tracklight.conf"], before);
}

TEST_F(ApiTest, DeleteAndVerifyFalse) {
  set_up_admin();
  EXPECT_EQ(call("PUT", "/api/v1/connections/jira?verify=false", jira_body().dump()).status, 200);
  EXPECT_EQ(call("PUT", "/api/v1/connections/jira?verify=maybe", jira_body().dump()).status, 400);
  EXPECT_EQ(call("DELETE", "/api/v1/connections/jira").status, 200);
  EXPECT_EQ(call("DELETE", "/api/v1/connections/jira").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/connections/jira").status, 404);
}

TEST_F(ApiTest, SurvivesRestart) {
  set_up_admin();
  ASSERT_EQ(call("PUT", "/api/v1/connections/jira", jira_body().dump()).status, 200);
  start();
  cookie.clear();
  csrf.clear();
  take_session(call("POST", "/api/v1/login", json{{"password", "correct horse"}}.dump()));
  json got = body_of(call("GET", "/api/v1/connections/jira"));
  EXPECT_EQ(got["name"], "Team Jira");
  EXPECT_EQ(agent->state().config.find("jira")->api_key, "CANARY-API-KEY");
}

TEST_F(ApiTest, StaticAssetsHaveTypesEtagsAndGzip) {
  auto page = call("GET", "/");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  // Only the gzip form is kept (its content is checked through a real client in
  // agent_api_test.cpp): a request without Accept-Encoding accepts any coding.
  const Asset* index = find_asset("/index.html");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(page.body, std::string(reinterpret_cast<const char*>(index->gz), index->gz_size));
  EXPECT_EQ(header_of(page, "Content-Encoding"), "gzip");
  EXPECT_NE(header_of(page, "Content-Security-Policy").find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(header_of(page, "X-Frame-Options"), "DENY");
  std::string etag = header_of(page, "ETag");
  EXPECT_EQ(call("GET", "/", "", {{"If-None-Match", etag}}).status, 304);
  for (const char* accepts : {"gzip, br", "br;q=1, GZIP;q=0.5", "*", "deflate, *;q=0.1", "x-gzip"}) {
    auto gz = call("GET", "/app.js", "", {{"Accept-Encoding", accepts}});
    EXPECT_EQ(gz.status, 200) << accepts;
    EXPECT_EQ(header_of(gz, "Content-Encoding"), "gzip") << accepts;
    EXPECT_EQ(static_cast<unsigned char>(gz.body[0]), 0x1f) << accepts;
  }
  for (const char* refuses : {"identity", "gzip;q=0", "br, *;q=0", "gzip; q=0.000, br", "*;q=1, gzip;q=0"}) {
    auto no = call("GET", "/app.js", "", {{"Accept-Encoding", refuses}});
    EXPECT_EQ(no.status, 406) << refuses;
    EXPECT_NE(no.body.find("curl --compressed"), std::string::npos) << refuses;
  }
  EXPECT_EQ(call("GET", "/app.css").content_type, "text/css; charset=utf-8");
  EXPECT_EQ(call("GET", "/nope.js").status, 404);
  EXPECT_EQ(call("POST", "/", "{}").status, 405);
  EXPECT_EQ(header_of(call("GET", "/api/v1/session"), "Cache-Control"), "no-store");
}

TEST_F(ApiTest, WrongMethodGets405WithAllow) {
  auto r = call("PATCH", "/api/v1/connections/x", "{}");
  EXPECT_EQ(r.status, 405);
  EXPECT_NE(header_of(r, "Allow").find("PUT"), std::string::npos);
  auto opt = call("OPTIONS", "/api/v1/connections", "", {{"Origin", "http://evil.example"}});
  EXPECT_EQ(opt.status, 405);
  for (const auto& h : opt.headers) EXPECT_EQ(h.first.rfind("Access-Control", 0), std::string::npos);
}

TEST_F(ApiTest, BoardKeyOpensTheBoardAndNothingElse) {
  set_up_admin();
  auto odd = call("POST", "/api/v1/board/key", R"({"key":"mine"})");
  EXPECT_EQ(odd.status, 400);
  EXPECT_EQ(body_of(odd)["error"]["field"], "key");
  EXPECT_EQ(fs.files["state/tracklight.conf"].find("board_key"), std::string::npos);
  auto rotated = call("POST", "/api/v1/board/key", "{}");
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  const std::string key = body_of(rotated)["key"];
  ASSERT_GE(key.size(), 40u);
  EXPECT_EQ(body_of(rotated)["path"], "/board?key=" + key);
  EXPECT_EQ(fs.files["state/tracklight.conf"].find(key), std::string::npos) << "only the hash is stored";
  EXPECT_NE(fs.files["state/tracklight.conf"].find("board_key = sha256:"), std::string::npos);
  for (const auto& line : log.lines()) EXPECT_EQ(line.find(key), std::string::npos) << line;

  cookie.clear();
  csrf.clear();  // a wall screen elsewhere on the network, with only the link
  for (const char* path : {"/board", "/api/v1/board", "/cc.xml"}) {
    EXPECT_EQ(call("GET", std::string(path) + "?key=" + key).status, 200) << path;
    EXPECT_EQ(call("GET", path).status, 401) << path;
    EXPECT_EQ(call("GET", std::string(path) + "?key=" + key + "0").status, 401) << path;
  }
  EXPECT_EQ(code_of(call("GET", "/api/v1/board?key=nope")), "board_key_invalid");
  for (const Route* r = routes_begin(); r != routes_end(); ++r) {
    if (r->access == Access::Board || r->access == Access::Public) continue;
    std::string path = r->path;
    if (path.substr(path.size() - 4) == "{id}") path.replace(path.size() - 4, 4, "jira");
    auto res = call(r->method, path + "?key=" + key, std::string(r->method) == "GET" ? "" : "{}");
    EXPECT_TRUE(res.status == 401 || res.status == 403) << r->method << " " << path << " " << res.status;
  }
  // The device itself needs no key (the kiosk browser on the Pi); rotating ends the old link.
  HttpRequest local;
  local.method = "GET";
  local.path = "/api/v1/board";
  local.remote_addr = "127.0.0.1";
  local.headers = {{"Host", "127.0.0.1:8080"}};
  EXPECT_EQ(agent->handle(local).status, 200);
  local.remote_addr = "::1";
  EXPECT_EQ(agent->handle(local).status, 200);
  auto login = call("POST", "/api/v1/login", json{{"password", "correct horse"}}.dump());
  take_session(login);
  EXPECT_EQ(call("GET", "/api/v1/board").status, 200) << "a logged-in session sees the board";
  ASSERT_EQ(call("POST", "/api/v1/board/key", "{}").status, 200);
  cookie.clear();
  EXPECT_EQ(call("GET", "/api/v1/board?key=" + key).status, 401);
  EXPECT_EQ(call("POST", "/api/v1/board/key", "{}").status, 401);
}

TEST_F(ApiTest, BoardAnswers304WhileUnchangedAndCctrayMatchesIt) {
  set_up_admin();
  https.respond = [](const std::string& path) {
    platform::HttpsResponse r;
    r.status = 200;
    r.headers = {{"Content-Type", "application/json; charset=utf-8"}};
    if (path.find("/_apis/build/builds") != std::string::npos)
      r.body = R"({"count":2,"value":[{"buildNumber":"41","status":"completed","result":"failed",)"
               R"("finishTime":"2026-11-18T10:00:00Z","definition":{"name":"Web & <API>"},)"
               R"("_links":{"web":{"href":"https://dev.azure.com/org/P/_build/results?buildId=41&view=logs"}}},)"
               R"({"buildNumber":"7","status":"inProgress","definition":{"name":"Docs"}}]})";
    else
      r.status = 404;
    return r;
  };
  json ado = {{"name", "Org \"builds\""}, {"provider", "azure-devops"}, {"server_url", "https://dev.azure.com/org"},
              {"auth", "pat"}, {"token", "CANARY-PAT"}, {"project", "P"}, {"board", {{"enabled", true}}}};
  ASSERT_EQ(call("PUT", "/api/v1/connections/ado?verify=false", ado.dump()).status, 200);
  clock.now_ms += 2000;
  agent->board().tick();
  auto first = call("GET", "/api/v1/board");
  ASSERT_EQ(first.status, 200);
  json b = body_of(first);
  ASSERT_EQ(b["sources"][0]["pipelines"].size(), 2u) << first.body;
  EXPECT_EQ(b["sources"][0]["stale"], false);
  const std::string etag = header_of(first, "ETag");
  ASSERT_FALSE(etag.empty());
  auto cached = call("GET", "/api/v1/board", "", {{"If-None-Match", etag}});
  EXPECT_EQ(cached.status, 304);
  EXPECT_TRUE(cached.body.empty());
  EXPECT_EQ(call("GET", "/api/v1/board", "", {{"If-None-Match", "\"other\""}}).status, 200);

  auto cc = call("GET", "/cc.xml");
  ASSERT_EQ(cc.status, 200);
  EXPECT_NE(cc.body.find("<Project name=\"Org &quot;builds&quot; / Web &amp; &lt;API&gt;\" activity=\"Sleeping\" "
                         "lastBuildStatus=\"Failure\" lastBuildLabel=\"41\" lastBuildTime=\"2026-11-18T10:00:00Z\" "
                         "webUrl=\"https://dev.azure.com/org/P/_build/results?buildId=41&amp;view=logs\"/>"),
            std::string::npos)
      << cc.body;
  EXPECT_NE(cc.body.find("name=\"Org &quot;builds&quot; / Docs\" activity=\"Building\" lastBuildStatus=\"Unknown\""),
            std::string::npos)
      << cc.body;
  EXPECT_EQ(cc.body.find("CANARY"), std::string::npos);

  // A new build changes the board and so the ETag.
  https.respond = [](const std::string&) {
    platform::HttpsResponse r;
    r.status = 200;
    r.headers = {{"Content-Type", "application/json"}};
    r.body = R"({"count":1,"value":[{"buildNumber":"42","status":"completed","result":"succeeded","definition":{"name":"Docs"}}]})";
    return r;
  };
  clock.now_ms += 70000;
  clock.wall_s += 70;
  agent->board().tick();
  EXPECT_EQ(call("GET", "/api/v1/board", "", {{"If-None-Match", etag}}).status, 200);
}

}  // namespace
}  // namespace tracklight::firmware

namespace tracklight::firmware {

// With the HTTPS page on, plain HTTP from the network goes to the same name on the HTTPS port,
// path and query kept; a target that is not a path cannot turn the Location into another URL.
TEST_F(ApiTest, PlainHttpIsRedirectedToTheSameNameAndPathOverHttps) {
  agent->state().opts.https_port = 8443;
  const auto redirect = [this](const std::string& host, const std::string& path, const std::string& target) {
    HttpRequest r;
    r.method = "GET";
    r.path = path;
    r.target = target;
    r.remote_addr = "192.0.2.10";
    r.headers = {{"Host", host}};
    return agent->handle(r);
  };
  HttpResponse a = redirect("kiosk:8080", "/board", "/board?key=abc");
  EXPECT_EQ(a.status, 308);
  EXPECT_EQ(header_of(a, "Location"), "https://kiosk:8443/board?key=abc");
  HttpResponse b = redirect("[::1]:8080", "/", "/");
  EXPECT_EQ(header_of(b, "Location"), "https://[::1]:8443/");
  HttpResponse c = redirect("kiosk:8080", "/x", "http://evil.example/x");
  EXPECT_EQ(header_of(c, "Location"), "https://kiosk:8443/x");
  HttpResponse d = redirect("kiosk:8080", "", "*");
  EXPECT_EQ(header_of(d, "Location"), "https://kiosk:8443/");
  HttpRequest health;
  health.method = "GET";
  health.path = "/healthz";
  health.remote_addr = "192.0.2.10";
  health.headers = {{"Host", "kiosk:8080"}};
  EXPECT_EQ(agent->handle(health).status, 200) << "/healthz stays on plain HTTP";
}

}  // namespace tracklight::firmware

namespace tracklight::firmware {
namespace {

// Tokens from a sign-in live in memory with the agent; a removed connection's goes with it, so
// adding the same settings again signs in afresh.
TEST_F(ApiTest, ARemovedConnectionsTokenIsForgotten) {
  set_up_admin();
  https.respond = test::happy_azure;
  int tokens = 0;
  https.respond_post = [&](const std::string&, const std::string&) {
    platform::HttpsResponse r;
    r.status = 200;
    r.headers = {{"Content-Type", "application/json"}};
    r.body = R"({"token_type":"Bearer","expires_in":3599,"access_token":"tok)" + std::to_string(++tokens) + "\"}";
    return r;
  };
  json sp = {{"name", "SP"}, {"provider", "azure-devops"}, {"server_url", "https://dev.azure.com/fabrikam"},
             {"auth", "service-principal"}, {"tenant_id", "72f988bf-86f1-41af-91ab-2d7cd011db47"},
             {"client_id", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"}, {"client_secret", "s3cr3t"}, {"project", "Fiber"}};
  ASSERT_EQ(call("PUT", "/api/v1/connections/sp", sp.dump()).status, 200);
  ASSERT_EQ(call("PUT", "/api/v1/connections/sp", sp.dump()).status, 200);
  EXPECT_EQ(tokens, 1) << "the kept token was not used";
  ASSERT_EQ(call("DELETE", "/api/v1/connections/sp").status, 200);
  ASSERT_EQ(call("PUT", "/api/v1/connections/sp", sp.dump()).status, 200);
  EXPECT_EQ(tokens, 2);
}

}  // namespace
}  // namespace tracklight::firmware
