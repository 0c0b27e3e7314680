// Hardening of the API's state handling: stored secrets stay bound to their server, a slow
// Connect re-checks under the lock when it commits, the file is saved outside the state lock,
// a change made on disk by `tracklight passwd` survives the next save from the page, and the
// login throttle counts an attempt before the slow hash.
#include "firmware/store/config_store.hpp"
#include "firmware/web/connection_json.hpp"
#include <set>
#include "tests/unit/api_fixture.hpp"

namespace tracklight::firmware {
namespace {

using HardeningTest = ApiTest;

std::string fields_of(const HttpResponse& r) {
  std::string out;
  const json body = json::parse(r.body);
  for (const auto& f : body["error"]["fields"]) out += (out.empty() ? "" : ",") + f.get<std::string>();
  return out;
}

TEST_F(HardeningTest, StoredSecretsAreNotCarriedToAnotherServer) {
  set_up_admin();
  json first = jira_body();
  first["proxy_url"] = "http://proxy.lan:3128";
  first["proxy_username"] = "kiosk";
  first["proxy_password"] = "CANARY-PROXY";
  ASSERT_EQ(call("PUT", "/api/v1/connections/jira", first.dump()).status, 200);
  const size_t sent = https.requests.size();

  json moved = first;
  moved.erase("api_key");
  moved.erase("proxy_password");
  moved["headers"] = json::array({{{"name", "X-Service-Token"}}});
  for (const std::string url : {"https://attacker.example", "https://example.atlassian.net:8443", "http://example.atlassian.net"}) {
    moved["server_url"] = url;
    moved["id"] = "jira";
    for (const auto& [method, path] : {std::pair<std::string, std::string>{"PUT", "/api/v1/connections/jira"},
                                       {"POST", "/api/v1/connections/test"}}) {
      auto r = call(method, path, moved.dump());
      EXPECT_EQ(r.status, 400) << method << " " << url << " " << r.body;
      EXPECT_EQ(code_of(r), "secret_not_carried");
      EXPECT_EQ(fields_of(r), "api_key,headers[0].value") << url;
      EXPECT_EQ(r.body.find("CANARY"), std::string::npos);
    }
  }
  EXPECT_EQ(https.requests.size(), sent) << "nothing may be sent anywhere";
  EXPECT_EQ(agent->state().config.find("jira")->server_url, "https://example.atlassian.net");

  // A CA certificate added for the same server could vouch for another machine under its name.
  json new_ca = first;
  new_ca.erase("api_key");
  new_ca.erase("proxy_password");
  new_ca["ca_cert"] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  for (const auto& [method, path] : {std::pair<std::string, std::string>{"PUT", "/api/v1/connections/jira"},
                                     {"POST", "/api/v1/connections/test"}}) {
    new_ca["id"] = "jira";
    auto r = call(method, path, new_ca.dump());
    ASSERT_EQ(r.status, 400) << method << " " << r.body;
    EXPECT_EQ(fields_of(r), "api_key") << method;
    EXPECT_NE(r.body.find("CA certificate"), std::string::npos) << r.body;
  }
  EXPECT_EQ(https.requests.size(), sent) << "nothing may be sent past a new CA";

  // The proxy password is bound to the proxy.
  json proxy_moved = first;
  proxy_moved.erase("proxy_password");
  proxy_moved["proxy_url"] = "http://other-proxy.lan:3128";
  auto r = call("PUT", "/api/v1/connections/jira", proxy_moved.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(fields_of(r), "proxy_password");

  // Same scheme, host and port (another path, other case): the stored secrets are kept.
  json same = first;
  same.erase("api_key");
  same.erase("proxy_password");
  same["server_url"] = "https://EXAMPLE.atlassian.net/";
  ASSERT_EQ(call("PUT", "/api/v1/connections/jira", same.dump()).status, 200);
  EXPECT_EQ(agent->state().config.find("jira")->api_key, "CANARY-API-KEY");
  EXPECT_EQ(agent->state().config.find("jira")->proxy_password, "CANARY-PROXY");

  // Entering the secrets again for the new server is what the person is asked to do.
  json retyped = moved;
  retyped["server_url"] = "https://other.atlassian.net";
  retyped["api_key"] = "NEW-KEY";
  retyped["headers"] = json::array({{{"name", "X-Service-Token"}, {"value", "NEW-HEADER"}}});
  retyped.erase("id");
  ASSERT_EQ(call("PUT", "/api/v1/connections/jira", retyped.dump()).status, 200);
  EXPECT_EQ(agent->state().config.find("jira")->api_key, "NEW-KEY");
  // Removing the proxy drops its password rather than keeping it for no proxy.
  json no_proxy = retyped;
  no_proxy.erase("proxy_url");
  no_proxy.erase("proxy_username");
  no_proxy.erase("api_key");
  no_proxy["headers"] = json::array({{{"name", "X-Service-Token"}}});
  ASSERT_EQ(call("PUT", "/api/v1/connections/jira", no_proxy.dump()).status, 200);
  EXPECT_EQ(agent->state().config.find("jira")->proxy_password, "");
}

TEST_F(HardeningTest, DeleteDuringConnectIsNotUndone) {
  set_up_admin();
  ASSERT_EQ(call("PUT", "/api/v1/connections/jira", jira_body().dump()).status, 200);
  // While the Connect's Test is talking to the tracker, another tab deletes the connection.
  bool deleted = false;
  https.respond = [&](const std::string& path) {
    if (!deleted && path.find("myself") != std::string::npos) {
      deleted = true;
      EXPECT_EQ(call("DELETE", "/api/v1/connections/jira").status, 200);
    }
    return test::happy_jira_cloud(path);
  };
  json edit = jira_body();
  edit["name"] = "Edited";
  auto r = call("PUT", "/api/v1/connections/jira", edit.dump());
  ASSERT_TRUE(deleted);
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(code_of(r), "conflict");
  EXPECT_EQ(agent->state().config.find("jira"), nullptr);
  EXPECT_EQ(fs.files["state/tracklight.conf"].find("[connection jira]"), std::string::npos);
}

TEST_F(HardeningTest, ParallelCreatesCannotPassTheLimit) {
  set_up_admin();
  for (size_t i = 0; i + 1 < kMaxConnections; ++i)
    ASSERT_EQ(call("PUT", "/api/v1/connections/c" + std::to_string(i) + "?verify=false", jira_body().dump()).status, 200);
  // Two creates of the last free slot: the second starts and finishes while the first is testing.
  bool nested = false;
  https.respond = [&](const std::string& path) {
    if (!nested && path.find("myself") != std::string::npos) {
      nested = true;
      EXPECT_EQ(call("PUT", "/api/v1/connections/late", jira_body().dump()).status, 200);
    }
    return test::happy_jira_cloud(path);
  };
  auto r = call("PUT", "/api/v1/connections/early", jira_body().dump());
  ASSERT_TRUE(nested);
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(agent->state().config.connections.size(), kMaxConnections);
  // What was saved still loads at the next start.
  start();
  EXPECT_EQ(agent->state().config.connections.size(), kMaxConnections);
  EXPECT_TRUE(agent->state().config_problem.empty()) << agent->state().config_problem;
}

// The file system's write waits on the disk; meanwhile every other request must get the lock.
class SlowDiskFs : public test::MemoryFs {
 public:
  std::function<void()> during_write;
  Status write_file_atomic(const std::string& path, const std::string& data, const platform::AtomicWriteOptions& o) override {
    if (during_write && path.find("tracklight.conf") != std::string::npos) during_write();
    return MemoryFs::write_file_atomic(path, data, o);
  }
};

TEST(CommitLock, TheSlowSaveRunsOutsideTheStateLock) {
  SlowDiskFs fs;
  test::FakeClock clock;
  test::CountingEntropy entropy;
  platform::MemoryLogger log;
  test::FakeHttps https;
  AgentOptions o;
  o.state_dir = "state";
  o.password_iterations = 1000;
  Agent agent(o, fs, clock, entropy, log, https);
  ASSERT_TRUE(agent.start().ok());
  int writes = 0, lock_free = 0;
  fs.during_write = [&] {
    ++writes;
    if (agent.state().mu.try_lock()) {
      ++lock_free;
      agent.state().mu.unlock();
    }
  };
  Status st = agent.state().commit([](Config& next) {
    next.agent.allowed_hosts.push_back("kiosk.lan");
    return ok_status();
  });
  ASSERT_TRUE(st.ok()) << st.error().message();
  EXPECT_EQ(writes, 1);
  EXPECT_EQ(lock_free, 1) << "commit held the state lock across the disk write";
  EXPECT_EQ(agent.state().config.agent.allowed_hosts.size(), 1u);
}

TEST_F(HardeningTest, PasswdWhileRunningIsNotUndoneByTheNextSave) {
  set_up_admin();
  const std::string old_hash = agent->state().config.agent.admin_password_hash;
  // `tracklight passwd` while the agent runs: it loads, changes and saves the file itself.
  {
    ConfigStore offline(fs, entropy, log, "state");
    ASSERT_TRUE(offline.open(StoreAccess::Edit).ok());
    LoadedConfig loaded = offline.load();
    loaded.config.agent.admin_password_hash = "pbkdf2-sha256$1000$c2FsdA==$aGFzaA==";
    ASSERT_TRUE(offline.save(loaded.config).ok());
  }
  // The next save from the page builds on the file as it is now.
  ASSERT_EQ(call("PUT", "/api/v1/connections/jira", jira_body().dump()).status, 200);
  EXPECT_NE(agent->state().config.agent.admin_password_hash, old_hash);
  start();
  EXPECT_EQ(agent->state().config.agent.admin_password_hash, "pbkdf2-sha256$1000$c2FsdA==$aGFzaA==");
  EXPECT_NE(agent->state().config.find("jira"), nullptr);
  bool logged = false;
  for (const auto& line : log.lines()) logged = logged || line.find("changed outside the agent") != std::string::npos;
  EXPECT_TRUE(logged);
}

TEST_F(HardeningTest, PasswdChangeEndsTheOldSessionsAtTheNextSave) {
  set_up_admin();
  {
    ConfigStore offline(fs, entropy, log, "state");
    ASSERT_TRUE(offline.open(StoreAccess::Edit).ok());
    LoadedConfig loaded = offline.load();
    loaded.config.agent.admin_password_hash = "pbkdf2-sha256$1000$c2FsdA==$aGFzaA==";
    ASSERT_TRUE(offline.save(loaded.config).ok());
  }
  ASSERT_EQ(call("POST", "/api/v1/board/key").status, 200);
  EXPECT_EQ(call("GET", "/api/v1/connections").status, 401) << "a session of the old password survived";
}

// Removed or broken behind the agent's back: the page can still save (SPEC section 6), the
// broken text is kept aside, and the good backup is not replaced by it.
TEST_F(HardeningTest, AFileBrokenOrRemovedUnderTheAgentDoesNotBlockSaving) {
  set_up_admin();
  ASSERT_EQ(call("PUT", "/api/v1/connections/jira", jira_body().dump()).status, 200);
  fs.files["state/tracklight.conf"] = "version = 1\n[broken\n";
  auto r = call("POST", "/api/v1/board/key");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(fs.files["state/tracklight.conf.bak"].find("[broken"), std::string::npos) << "the broken file became the backup";
  bool kept = false;
  for (const auto& f : fs.files) kept = kept || f.first.find("tracklight.conf.broken-") != std::string::npos;
  EXPECT_TRUE(kept);
  fs.files.erase("state/tracklight.conf");
  EXPECT_EQ(call("POST", "/api/v1/board/key").status, 200);
  start();
  EXPECT_NE(agent->state().config.find("jira"), nullptr);
}

TEST_F(HardeningTest, ConnectCountsAsTheLastCheck) {
  set_up_admin();
  json body = jira_body();
  body["check_interval_s"] = 3600;
  auto put = call("PUT", "/api/v1/connections/jira", body.dump());
  ASSERT_EQ(put.status, 200);
  EXPECT_EQ(body_of(put)["connection"]["last_check"], iso_time(clock.wall_s));
  json got = body_of(call("GET", "/api/v1/connections/jira"));
  EXPECT_EQ(got["last_check"], iso_time(clock.wall_s));
  json status = body_of(call("GET", "/api/v1/status"))["connections"][0];
  EXPECT_EQ(status["last_check"], iso_time(clock.wall_s));
  EXPECT_FALSE(status["next_check"].is_null());
}

// Devices that booted together must not all check at the same second: the schedule follows
// each agent's own entropy.
TEST_F(HardeningTest, CheckTimesFollowTheDevicesEntropy) {
  std::set<std::string> next_checks;
  for (uint64_t seed : {1ULL, 2ULL, 3ULL}) {
    entropy.state = 0x9e3779b97f4a7c15ULL * seed;
    fs.files.clear();
    cookie.clear();
    csrf.clear();
    start();
    set_up_admin();
    json body = jira_body();
    body["check_interval_s"] = 3600;
    ASSERT_EQ(call("PUT", "/api/v1/connections/jira", body.dump()).status, 200);
    next_checks.insert(body_of(call("GET", "/api/v1/status"))["connections"][0]["next_check"].get<std::string>());
  }
  EXPECT_EQ(next_checks.size(), 3u);
}

TEST_F(HardeningTest, ParallelGuessesAreCountedBeforeTheHash) {
  LoginThrottle t;
  int let_through = 0;
  for (int i = 0; i < 20; ++i) let_through += t.begin("192.0.2.7", 1000) == 0;  // none has finished yet
  EXPECT_EQ(let_through, LoginThrottle::kFreeAttempts);
  EXPECT_EQ(t.begin("192.0.2.8", 1000), 0) << "another client is not affected";
  t.succeeded("192.0.2.7");
  EXPECT_EQ(t.begin("192.0.2.7", 1000), 0);
  // A hash that took 5 s (a busy Pi) does not use up the 1 s delay: it counts from the answer.
  LoginThrottle slow;
  for (int i = 0; i < LoginThrottle::kFreeAttempts; ++i) ASSERT_EQ(slow.begin("192.0.2.9", 0), 0);
  slow.failed_after_check("192.0.2.9", 5000);
  EXPECT_GT(slow.begin("192.0.2.9", 5500), 0);
  EXPECT_EQ(slow.begin("192.0.2.9", 6001), 0);
}

TEST_F(HardeningTest, LoginsWaitWhileTheHashSlotsAreTaken) {
  set_up_admin();
  cookie.clear();
  csrf.clear();
  {
    std::lock_guard<std::mutex> lock(agent->state().mu);
    agent->state().hashing = 2;  // two other logins are being hashed
  }
  auto busy = call("POST", "/api/v1/login", json{{"password", "correct horse"}}.dump());
  EXPECT_EQ(busy.status, 429);
  EXPECT_EQ(code_of(busy), "busy");
  EXPECT_EQ(header_of(busy, "Retry-After"), "1");
  {
    std::lock_guard<std::mutex> lock(agent->state().mu);
    agent->state().hashing = 0;
  }
  EXPECT_EQ(call("POST", "/api/v1/login", json{{"password", "correct horse"}}.dump()).status, 200);
  EXPECT_EQ(agent->state().hashing, 0) << "the slot was given back";
}

TEST_F(HardeningTest, AWrongSetupCodeDoesNotTellWhereTheStateLives) {
  auto wrong = call("POST", "/api/v1/setup", json{{"setup_code", "AAAAA-AAAAA"}, {"password", "correct horse"}}.dump());
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(wrong.body.find("state/"), std::string::npos) << wrong.body;
  EXPECT_NE(wrong.body.find("agent's log"), std::string::npos);
}

TEST(SettingsFingerprint, HoldsNoSecret) {
  Connection c;
  c.api_key = "CANARY-FP-KEY";
  c.headers.push_back({"X-Token", "CANARY-FP-HEADER"});
  const std::string fp = settings_fingerprint(c, true);
  EXPECT_EQ(fp.find("CANARY"), std::string::npos);
  EXPECT_EQ(fp.size(), 32u);
  Connection d = c;
  d.api_key = "CANARY-FP-KEY2";
  EXPECT_NE(settings_fingerprint(d, true), fp) << "a changed secret is still noticed";
}

}  // namespace
}  // namespace tracklight::firmware
