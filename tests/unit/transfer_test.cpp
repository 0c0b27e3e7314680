// Export files and import planning: what an export carries, how an import file is checked, and
// what merge and --replace do to the stored connections.
#include "firmware/store/transfer.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/fakes.hpp"

namespace tracklight::firmware {
namespace {

Connection jira(const std::string& id = "jira-main") {
  Connection c;
  c.id = id;
  c.name = "Team Jira";
  c.provider = "jira";
  c.server_url = "https://example.atlassian.net";
  c.auth = "api-key";
  c.username = "mia@example.com";
  c.proxy_url = "http://proxy.example:3128";
  c.proxy_username = "proxy-user";
  c.api_key = "CANARY-API-KEY-" + id;
  c.proxy_password = "CANARY-PROXY-PW";
  c.headers = {{"X-Service-Token", "CANARY-HEADER"}};
  c.board.jql = "project = OPS";
  c.saved_status = "authorized";
  return c;
}

Connection ado() {
  Connection c;
  c.id = "ado";
  c.name = "Fabrikam";
  c.provider = "azure-devops";
  c.server_url = "https://dev.azure.com/fabrikam";
  c.auth = "pat";
  c.token = "CANARY-PAT";
  c.saved_status = "authorized";
  return c;
}

struct TransferTest : ::testing::Test {
  test::CountingEntropy entropy;
  ProvisioningKey receiver = *ProvisioningKey::from_private(std::string(32, 'r'));
  ProvisioningKey other = *ProvisioningKey::from_private(std::string(32, 'o'));
  Config stored;

  void SetUp() override {
    stored.agent.admin_password_hash = "pbkdf2-sha256$1000$c2FsdA$aGFzaA";
    stored.agent.board_key_hash = "sha256:" + std::string(64, 'a');
    stored.agent.allowed_hosts = {"kiosk.lan"};
    stored.connections = {jira(), ado()};
  }
  std::string exported(const Config& c, const ProvisioningKey* to) {
    auto text = encode_transfer(c, to ? &to->public_key() : nullptr, entropy);
    EXPECT_TRUE(text.ok());
    return *text;
  }
  DecodedTransfer decoded(const std::string& text, const ProvisioningKey* key) {
    DecodedTransfer d = decode_transfer(text, key);
    for (const auto& p : d.problems) ADD_FAILURE() << "line " << p.line << ": " << p.message;
    return d;
  }
  static size_t line_of(const std::string& text, const std::string& needle) {
    size_t at = text.find(needle);
    if (at == std::string::npos) return 0;
    size_t n = 1;
    for (size_t i = 0; i < at; ++i) n += text[i] == '\n';
    return n;
  }
  static const ConnectionChange* change(const ImportPlan& p, const std::string& id) {
    for (const auto& c : p.connections)
      if (c.id == id) return &c;
    return nullptr;
  }
};

TEST_F(TransferTest, ExportWithoutSecretsCarriesNone) {
  stored.connections[1].imported = true;  // this device's own state, like the status
  const std::string text = exported(stored, nullptr);
  EXPECT_EQ(text.find("CANARY"), std::string::npos) << text;
  EXPECT_EQ(text.find("sealed"), std::string::npos) << text;
  EXPECT_EQ(text.find("admin_password"), std::string::npos);
  EXPECT_EQ(text.find("board_key"), std::string::npos);
  EXPECT_EQ(text.find("status"), std::string::npos);
  EXPECT_EQ(text.find("imported"), std::string::npos);
  EXPECT_NE(text.find("\nheader = X-Service-Token\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nallowed_host = kiosk.lan\n"), std::string::npos);
  EXPECT_NE(text.find("[connection jira-main]"), std::string::npos);

  DecodedTransfer d = decoded(text, nullptr);
  ASSERT_EQ(d.config.connections.size(), 2u);
  EXPECT_TRUE(d.secrets_given[0].empty());
  EXPECT_EQ(d.config.connections[0].headers.size(), 1u);
  EXPECT_EQ(d.config.connections[0].server_url, "https://example.atlassian.net");
  EXPECT_EQ(d.config.connections[0].board.jql, "project = OPS");
}

TEST_F(TransferTest, ExportWithSecretsOpensOnTheReceiver) {
  const std::string text = exported(stored, &receiver);
  EXPECT_EQ(text.find("CANARY"), std::string::npos);
  EXPECT_NE(text.find("api_key = sealed-for:" + receiver.public_key().fingerprint() + ":"), std::string::npos) << text;
  DecodedTransfer d = decoded(text, &receiver);
  ASSERT_EQ(d.config.connections.size(), 2u);
  const Connection& j = d.config.connections[0];
  EXPECT_EQ(j.api_key, "CANARY-API-KEY-jira-main");
  EXPECT_EQ(j.proxy_password, "CANARY-PROXY-PW");
  ASSERT_EQ(j.headers.size(), 1u);
  EXPECT_EQ(j.headers[0].value, "CANARY-HEADER");
  EXPECT_EQ(d.secrets_given[0], (std::set<std::string>{"api_key", "proxy_password", "header/x-service-token"}));
  EXPECT_EQ(d.config.connections[1].token, "CANARY-PAT");
}

TEST_F(TransferTest, SealedForAnotherDeviceIsRefusedByName) {
  const std::string text = exported(stored, &receiver);
  DecodedTransfer d = decode_transfer(text, &other);
  ASSERT_FALSE(d.problems.empty());
  const LineProblem& p = d.problems[0];
  EXPECT_EQ(p.line, line_of(text, "api_key = sealed-for:"));
  EXPECT_NE(p.message.find("[connection jira-main] api_key is sealed for another device"), std::string::npos) << p.message;
  // Every sealed value is named, not only the first.
  EXPECT_EQ(d.problems.size(), 4u);  // api_key, proxy_password, header, ado's token
  for (const auto& pr : d.problems) EXPECT_EQ(pr.message.find("CANARY"), std::string::npos);
  // A device without a provisioning key cannot be the receiver either.
  DecodedTransfer none = decode_transfer(text, nullptr);
  ASSERT_EQ(none.problems.size(), 4u);
  EXPECT_NE(none.problems[0].message.find("sealed for another device"), std::string::npos);
}

TEST_F(TransferTest, ValueMovedToAnotherConnectionDoesNotOpen) {
  Config two;
  two.connections = {jira("one"), jira("two")};
  std::string text = exported(two, &receiver);
  const size_t a = text.find("api_key = "), b = text.find("api_key = ", a + 1);
  const size_t a_end = text.find('\n', a), b_end = text.find('\n', b);
  const std::string first = text.substr(a, a_end - a);
  text = text.substr(0, b) + first + text.substr(b_end);  // two's api_key := one's
  DecodedTransfer d = decode_transfer(text, &receiver);
  ASSERT_EQ(d.problems.size(), 1u);
  EXPECT_EQ(d.problems[0].line, 1u + static_cast<size_t>(std::count(text.begin(), text.begin() + static_cast<long>(b), '\n')));
  EXPECT_NE(d.problems[0].message.find("[connection two] api_key cannot be opened"), std::string::npos) << d.problems[0].message;
}

TEST_F(TransferTest, BrokenFileNamesEveryLine) {
  const std::string text =
      "version = 1\n"
      "[agent]\n"
      "admin_password = pbkdf2-sha256$1$x$y\n"          // 3: never imported
      "[connection ok]\n"
      "name = OK\nprovider = jira\nauth = pat\n"
      "server_url = http://jira.example\n"            // 8: not https (found by the field rules)
      "[connection bad id!]\n"                        // 9
      "name = skipped, its section is bad\n"
      "[connection j2]\n"
      "name = J2\nprovider = jira\nauth = pat\nserver_url = https://jira.example\n"
      "api_key = CANARY-in-clear\n"                   // 16: a secret in clear
      "token = sealed:AAAA\n"                         // 17: sealed with a device key, not for a device
      "check_interval_s = 5\n";                       // 18
  DecodedTransfer d = decode_transfer(text, &receiver);
  std::vector<size_t> lines;
  for (const auto& p : d.problems) lines.push_back(p.line);
  EXPECT_EQ(lines, (std::vector<size_t>{3, 9, 16, 17, 18})) << d.problems.size();
  for (const auto& p : d.problems) EXPECT_EQ(p.message.find("CANARY"), std::string::npos) << p.message;
  // The field rules run once the lines themselves are good, and name the field's own line.
  DecodedTransfer fields = decode_transfer("version = 1\n[connection ok]\nname = OK\nprovider = jira\nauth = pat\n"
                                           "server_url = http://jira.example\n",
                                           &receiver);
  ASSERT_EQ(fields.problems.size(), 1u);
  EXPECT_EQ(fields.problems[0].line, 6u);
  EXPECT_NE(fields.problems[0].message.find("[connection ok] server_url"), std::string::npos);
  EXPECT_EQ(decode_transfer("", &receiver).problems.size(), 1u);
  EXPECT_EQ(decode_transfer("version = 2\n", &receiver).problems[0].line, 1u);
  EXPECT_EQ(decode_transfer("version = 1\n# " + std::string(kMaxTransferLine, 'x') + "\n", &receiver).problems[0].line, 2u);
}

TEST_F(TransferTest, MergeKeepsOthersReplaceMakesTheFileTheSet) {
  Config file_cfg;
  Connection changed = jira();
  changed.name = "Renamed";
  Connection added = jira("new-one");
  file_cfg.connections = {changed, added};
  file_cfg.agent.allowed_hosts = {"board.lan"};
  const std::string text = exported(file_cfg, &receiver);
  DecodedTransfer d = decoded(text, &receiver);

  ImportPlan merge = plan_import(stored, d, false);
  ASSERT_TRUE(merge.problems.empty());
  ASSERT_EQ(merge.next.connections.size(), 3u);
  EXPECT_EQ(merge.next.connections[1].id, "ado");  // left alone
  EXPECT_EQ(merge.next.connections[1].saved_status, "authorized");
  EXPECT_EQ(change(merge, "jira-main")->kind, "changed");
  EXPECT_EQ(change(merge, "jira-main")->fields, std::vector<std::string>{"name"});
  EXPECT_EQ(change(merge, "new-one")->kind, "added");
  EXPECT_EQ(change(merge, "ado"), nullptr);
  EXPECT_EQ(merge.next.agent.allowed_hosts, (std::vector<std::string>{"kiosk.lan", "board.lan"}));

  ImportPlan replace = plan_import(stored, d, true);
  ASSERT_EQ(replace.next.connections.size(), 2u);
  EXPECT_EQ(replace.next.connections[0].id, "jira-main");
  EXPECT_EQ(replace.next.connections[1].id, "new-one");
  EXPECT_EQ(change(replace, "ado")->kind, "removed");
  EXPECT_EQ(replace.next.agent.allowed_hosts, std::vector<std::string>{"board.lan"});
  for (const ImportPlan* p : {&merge, &replace}) {
    EXPECT_EQ(p->next.agent.admin_password_hash, stored.agent.admin_password_hash);
    EXPECT_EQ(p->next.agent.board_key_hash, stored.agent.board_key_hash);
  }
  const std::vector<std::string> lines = describe_plan(replace);
  EXPECT_EQ(lines, (std::vector<std::string>{"changed jira-main: name", "added new-one", "removed ado",
                                             "changed agent settings: allowed_host"}));
}

TEST_F(TransferTest, ImportNeverMarksAuthorized) {
  Config file_cfg;
  file_cfg.connections = {jira(), ado()};
  file_cfg.connections[1].project = "Fiber";
  DecodedTransfer d = decoded(exported(file_cfg, &receiver), &receiver);
  ImportPlan p = plan_import(stored, d, false);
  EXPECT_EQ(change(p, "jira-main")->kind, "unchanged");
  EXPECT_EQ(p.next.find("jira-main")->saved_status, "authorized");  // untouched
  EXPECT_EQ(change(p, "ado")->kind, "changed");
  EXPECT_EQ(p.next.find("ado")->saved_status, "not-verified");
  EXPECT_TRUE(p.next.find("ado")->imported);  // so the monitor checks it
  EXPECT_FALSE(p.next.find("jira-main")->imported);
  Config empty;
  ImportPlan fresh = plan_import(empty, d, false);
  for (const auto& c : fresh.next.connections) EXPECT_EQ(c.saved_status, "not-verified");
}

TEST_F(TransferTest, SecretsStayOnlyWithTheirServer) {
  Config file_cfg;
  Connection same = jira();
  Connection moved = ado();
  moved.server_url = "https://dev.azure.com:8443/fabrikam";  // another port
  file_cfg.connections = {same, moved};
  DecodedTransfer d = decoded(exported(file_cfg, nullptr), nullptr);
  ImportPlan p = plan_import(stored, d, false);
  ASSERT_TRUE(p.problems.empty());
  const Connection& j = *p.next.find("jira-main");
  EXPECT_EQ(j.api_key, "CANARY-API-KEY-jira-main");
  EXPECT_EQ(j.proxy_password, "CANARY-PROXY-PW");
  ASSERT_EQ(j.headers.size(), 1u);
  EXPECT_EQ(j.headers[0].value, "CANARY-HEADER");
  EXPECT_EQ(change(p, "jira-main")->kind, "unchanged");

  const Connection& a = *p.next.find("ado");
  EXPECT_TRUE(a.token.empty());
  const ConnectionChange* c = change(p, "ado");
  ASSERT_EQ(c->enter.size(), 1u);
  EXPECT_EQ(c->enter[0].field, "token");
  EXPECT_TRUE(c->enter[0].server_changed);
  EXPECT_EQ(c->fields, (std::vector<std::string>{"server_url", "token"}));
  const std::vector<std::string> lines = describe_plan(p);
  EXPECT_EQ(lines[2], "  ado: enter the token again on the page: the server (scheme, host or port) or its CA certificate changed, so the "
                      "stored one is not carried over");
  for (const auto& l : lines) EXPECT_EQ(l.find("CANARY"), std::string::npos);

  // On a device with nothing stored, the connection arrives without its secret, and says so.
  Config empty;
  ImportPlan fresh = plan_import(empty, d, false);
  const ConnectionChange* added = change(fresh, "jira-main");
  ASSERT_EQ(added->enter.size(), 2u);
  EXPECT_EQ(added->enter[0].field, "header X-Service-Token");
  EXPECT_EQ(added->enter[1].field, "api_key");
  EXPECT_TRUE(fresh.next.find("jira-main")->headers.empty());
}

// Same server, but a CA certificate the stored connection did not trust: the secrets stay behind.
// Dropping a CA certificate only narrows whom the agent trusts, so they go along.
TEST_F(TransferTest, SecretsDoNotFollowANewCaCertificate) {
  const std::string ca_a = "-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n";
  const std::string ca_b = "-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n";
  stored.connections[0].ca_cert = ca_a;
  auto plan_with_ca = [&](const std::string& ca) {
    DecodedTransfer d;
    Connection c = jira();
    c.api_key.clear();
    c.proxy_password.clear();
    c.headers[0].value.clear();
    c.ca_cert = ca;
    d.config.connections = {c};
    d.secrets_given = {{}};
    d.section_lines = {1};
    return plan_import(stored, d, false);
  };
  ImportPlan replaced = plan_with_ca(ca_b);
  const Connection& r = *replaced.next.find("jira-main");
  EXPECT_TRUE(r.api_key.empty());
  EXPECT_TRUE(r.headers.empty());
  EXPECT_EQ(r.proxy_password, "CANARY-PROXY-PW");  // the proxy did not change
  const ConnectionChange* c = change(replaced, "jira-main");
  ASSERT_EQ(c->enter.size(), 2u);
  EXPECT_TRUE(c->enter[0].server_changed);
  for (const std::string& ca : {ca_a, std::string()}) {
    ImportPlan kept = plan_with_ca(ca);
    EXPECT_EQ(kept.next.find("jira-main")->api_key, "CANARY-API-KEY-jira-main") << (ca.empty() ? "removed" : "same");
    EXPECT_EQ(change(kept, "jira-main")->enter.size(), 0u);
  }
}

// What an import saves must load again: a not-verified connection may lack its sign-in secret,
// an authorized one may not.
TEST_F(TransferTest, StoreKeepsANotVerifiedConnectionWithoutItsSecret) {
  SecretBox box(std::string(32, 'k'));
  Config cfg;
  Connection c = ado();
  c.token.clear();
  c.saved_status = "not-verified";
  cfg.connections = {c};
  auto text = encode_config(cfg, box, entropy);
  ASSERT_TRUE(text.ok());
  auto back = decode_config(*text, box);
  ASSERT_TRUE(back.ok()) << back.error().message();
  cfg.connections[0].saved_status = "authorized";
  auto refused = decode_config(*encode_config(cfg, box, entropy), box);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().detail.find("token"), std::string::npos);
}

TEST_F(TransferTest, TooManyConnectionsIsAProblem) {
  Config many;
  for (int i = 0; i < 32; ++i) many.connections.push_back(jira("c" + std::to_string(i)));
  DecodedTransfer d = decoded(exported(many, nullptr), nullptr);
  ImportPlan merge = plan_import(stored, d, false);
  ASSERT_EQ(merge.problems.size(), 2u);  // stored jira-main and ado + 32 new
  EXPECT_NE(merge.problems[0].message.find("more than 32 connections"), std::string::npos);
  EXPECT_TRUE(plan_import(stored, d, true).problems.empty());
}

TEST_F(TransferTest, SelectForExport) {
  auto one = select_for_export(stored, {"ado"});
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->connections.size(), 1u);
  EXPECT_EQ(one->connections[0].id, "ado");
  EXPECT_EQ(select_for_export(stored, {}).value().connections.size(), 2u);
  auto missing = select_for_export(stored, {"nope"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().detail.find("nope"), std::string::npos);
}

}  // namespace
}  // namespace tracklight::firmware

namespace tracklight::firmware {
namespace {

// A person's device code sign-in never leaves its device: an export (even with secrets) leaves
// it out, an import file carrying one is refused by line, and an import of the connection keeps
// the receiving device's own sign-in (or says to sign in there).
TEST_F(TransferTest, ASignInStaysOnItsDevice) {
  Connection dc = ado();
  dc.id = "dc";
  dc.auth = "device-code";
  dc.token.clear();
  dc.tenant_id = "72f988bf-86f1-41af-91ab-2d7cd011db47";
  dc.client_id = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
  dc.refresh_token = "CANARY-REFRESH";
  dc.signed_in_as = "mia@fabrikam.example";
  stored.connections.push_back(dc);
  const std::string text = exported(stored, &receiver);
  EXPECT_EQ(text.find("refresh_token"), std::string::npos) << text;
  EXPECT_EQ(text.find("signed_in_as"), std::string::npos) << text;
  DecodedTransfer d = decoded(text, &receiver);
  // Imported back here: this device's own sign-in stays.
  ImportPlan here = plan_import(stored, d, false);
  EXPECT_EQ(here.next.find("dc")->refresh_token, "CANARY-REFRESH");
  EXPECT_EQ(here.next.find("dc")->signed_in_as, "mia@fabrikam.example");
  // On a new device: sign in there.
  Config empty;
  ImportPlan fresh = plan_import(empty, d, false);
  ASSERT_NE(change(fresh, "dc"), nullptr);
  ASSERT_EQ(change(fresh, "dc")->enter.size(), 1u);
  EXPECT_EQ(change(fresh, "dc")->enter[0].field, "refresh_token");
  bool says = false;
  for (const auto& l : describe_plan(fresh)) says = says || l.find("sign in on this device's page") != std::string::npos;
  EXPECT_TRUE(says);
  // A hand-made file carrying one is refused, naming the line.
  const std::string planted = text + "refresh_token = sealed-for:x:y\n";
  DecodedTransfer bad = decode_transfer(planted, &receiver);
  ASSERT_FALSE(bad.problems.empty());
  EXPECT_NE(bad.problems[0].message.find("a sign-in belongs to the device"), std::string::npos) << bad.problems[0].message;
}

}  // namespace
}  // namespace tracklight::firmware
