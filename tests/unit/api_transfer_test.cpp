// GET /api/v1/device-key, GET /api/v1/export and POST /api/v1/import, called directly.
#include "tests/unit/api_fixture.hpp"

#include "firmware/store/config_codec.hpp"

namespace tracklight::firmware {
namespace {

struct ApiTransferTest : ApiTest {
  void SetUp() override {
    ApiTest::SetUp();
    set_up_admin();
    auto r = call("PUT", "/api/v1/connections/jira", jira_body().dump());
    ASSERT_EQ(r.status, 200) << r.body;
  }
  std::string own_key() {
    auto r = call("GET", "/api/v1/device-key");
    EXPECT_EQ(r.status, 200) << r.body;
    return body_of(r)["public_key"];
  }
  HttpResponse import(const std::string& text, const std::string& query = "") {
    return call("POST", "/api/v1/import" + query, json{{"text", text}}.dump());
  }
};

TEST_F(ApiTransferTest, DeviceKeyIsThisDevicesProvisioningKey) {
  const std::string key = own_key();
  auto stored = load_provisioning_key(fs, "state");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(key, stored->public_key().text());
  EXPECT_EQ(body_of(call("GET", "/api/v1/device-key"))["fingerprint"], stored->public_key().fingerprint());
  cookie.clear();
  EXPECT_EQ(call("GET", "/api/v1/device-key").status, 401);
  EXPECT_EQ(call("GET", "/api/v1/export").status, 401);
}

TEST_F(ApiTransferTest, ExportIsAFileWithoutSecretsUnlessSealed) {
  auto plain = call("GET", "/api/v1/export");
  ASSERT_EQ(plain.status, 200) << plain.body;
  EXPECT_EQ(plain.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(header_of(plain, "Content-Disposition"), "attachment; filename=\"tracklight-export.conf\"");
  EXPECT_EQ(header_of(plain, "Cache-Control"), "no-store");
  EXPECT_NE(plain.body.find("[connection jira]"), std::string::npos);
  EXPECT_EQ(plain.body.find("CANARY"), std::string::npos);
  EXPECT_EQ(plain.body.find("sealed"), std::string::npos);
  EXPECT_EQ(plain.body.find("admin_password"), std::string::npos);

  auto sealed = call("GET", "/api/v1/export?with_secrets=1&for=" + own_key() + "&id=jira");
  ASSERT_EQ(sealed.status, 200) << sealed.body;
  EXPECT_NE(sealed.body.find("api_key = sealed-for:"), std::string::npos);
  EXPECT_EQ(sealed.body.find("CANARY"), std::string::npos);

  EXPECT_EQ(call("GET", "/api/v1/export?with_secrets=1").status, 400);
  EXPECT_EQ(call("GET", "/api/v1/export?with_secrets=1&for=x25519:00").status, 400);
  EXPECT_EQ(call("GET", "/api/v1/export?with_secrets=1&for=x25519:" + std::string(64, '0')).status, 400);  // low order
  EXPECT_EQ(call("GET", "/api/v1/export?id=nope").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/export?colour=red").status, 400);
  for (const auto& line : log.lines()) EXPECT_EQ(line.find("CANARY"), std::string::npos) << line;
}

// A file without sealed secrets needs no key: its dry run leaves the state directory as it was.
TEST_F(ApiTransferTest, ADryRunWithoutSealedSecretsMakesNoKey) {
  const std::string text = call("GET", "/api/v1/export").body;
  ASSERT_NE(text.find("[connection jira]"), std::string::npos) << text;
  auto dry = import(text, "?dry_run=1");
  ASSERT_EQ(dry.status, 200) << dry.body;
  EXPECT_FALSE(fs.exists("state/provisioning.key"));
  own_key();  // asked for, it is made
  EXPECT_TRUE(fs.exists("state/provisioning.key"));
}

TEST_F(ApiTransferTest, DryRunThenImport) {
  std::string text = call("GET", "/api/v1/export?with_secrets=1&for=" + own_key()).body;
  const size_t at = text.find("name = Team Jira");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 16, "name = Ops Jira");
  const std::string conf_before = fs.files["state/tracklight.conf"];

  auto dry = import(text, "?dry_run=1");
  ASSERT_EQ(dry.status, 200) << dry.body;
  json d = body_of(dry);
  EXPECT_EQ(d["dry_run"], true);
  ASSERT_EQ(d["changes"].size(), 1u);
  EXPECT_EQ(d["changes"][0]["change"], "changed");
  EXPECT_EQ(d["changes"][0]["fields"], json::array({"name"}));
  EXPECT_EQ(fs.files["state/tracklight.conf"], conf_before);
  EXPECT_EQ(body_of(call("GET", "/api/v1/connections/jira"))["status"], "authorized");

  auto done = import(text);
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(body_of(done)["lines"], json::array({"changed jira: name"}));
  json c = body_of(call("GET", "/api/v1/connections/jira"));
  EXPECT_EQ(c["name"], "Ops Jira");
  EXPECT_EQ(c["status"], "not-verified");  // never authorized by an import
  EXPECT_EQ(c["secrets"]["api_key"], true);
  EXPECT_EQ(agent->state().config.find("jira")->api_key, "CANARY-API-KEY");
  EXPECT_NE(fs.files["state/tracklight.conf"], conf_before);

  auto again = import(text);
  EXPECT_EQ(body_of(again)["changed"], false);
  EXPECT_EQ(body_of(again)["warnings"], json::array());

  // What the file says that this version leaves out or keeps unread is shown, with its line.
  std::string newer = text;
  newer.insert(newer.find("name = Ops Jira"), "colour = teal\n");
  json w = body_of(import(newer, "?dry_run=1"));
  ASSERT_EQ(w["warnings"].size(), 1u) << w.dump();
  EXPECT_NE(w["warnings"][0].get<std::string>().find("unknown key 'colour'"), std::string::npos);
  EXPECT_EQ(w["lines"].back(), "file " + w["warnings"][0].get<std::string>());
}

TEST_F(ApiTransferTest, ProblemsAnswer422WithTheirLines) {
  const std::string conf_before = fs.files["state/tracklight.conf"];
  auto r = import("version = 1\n[connection jira]\nname = X\nbogus line\n");
  ASSERT_EQ(r.status, 422) << r.body;
  json e = body_of(r)["error"];
  EXPECT_EQ(e["code"], "import_invalid");
  ASSERT_EQ(e["problems"].size(), 1u);
  EXPECT_EQ(e["problems"][0]["line"], 4);

  // Sealed for another device: refused by name, nothing changes.
  auto other = ProvisioningKey::from_private(std::string(32, 'o'));
  Config cfg = agent->state().config;
  auto text = encode_transfer(cfg, &other->public_key(), entropy);
  ASSERT_TRUE(text.ok());
  auto wrong = import(*text);
  ASSERT_EQ(wrong.status, 422);
  const std::string msg = body_of(wrong)["error"]["problems"][0]["message"];
  EXPECT_NE(msg.find("[connection jira] api_key is sealed for another device"), std::string::npos) << msg;
  EXPECT_EQ(wrong.body.find("CANARY"), std::string::npos);
  EXPECT_EQ(fs.files["state/tracklight.conf"], conf_before);

  EXPECT_EQ(call("POST", "/api/v1/import", "").status, 400);
  EXPECT_EQ(call("POST", "/api/v1/import", json{{"text", "x"}, {"extra", 1}}.dump()).status, 400);
  EXPECT_EQ(import("version = 1\n", "?dry_run=maybe").status, 400);
}

TEST_F(ApiTransferTest, ImportNeedsTheCsrfToken) {
  auto r = call("POST", "/api/v1/import", json{{"text", "version = 1\n"}}.dump(), {{"X-CSRF-Token", "nope"}});
  EXPECT_EQ(r.status, 403);
}

TEST_F(ApiTransferTest, ReplaceRemovesWhatTheFileDoesNotHold) {
  auto empty = import("version = 1\n[agent]\n", "?replace=1");
  ASSERT_EQ(empty.status, 200) << empty.body;
  EXPECT_EQ(body_of(empty)["changes"][0]["change"], "removed");
  EXPECT_TRUE(agent->state().config.connections.empty());
  EXPECT_FALSE(agent->state().config.agent.admin_password_hash.empty());  // still logged in, still set
}

}  // namespace
}  // namespace tracklight::firmware
