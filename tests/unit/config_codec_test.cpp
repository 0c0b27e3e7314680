#include "firmware/store/config_codec.hpp"

#include <gtest/gtest.h>

#include "tests/support/fakes.hpp"

namespace tracklight::firmware {
namespace {

const std::string kKey(32, 'k');

Connection full_jira() {
  Connection c;
  c.id = "jira-main";
  c.name = "Team \"Jira\"  ";
  c.provider = "jira";
  c.server_url = "https://example.atlassian.net";
  c.auth = "api-key";
  c.username = "mia@example.com";
  c.token_expires = "2027-03-31";
  c.proxy_url = "http://proxy.example:3128";
  c.proxy_username = "proxy-user";
  c.ca_cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  c.api_key = "CANARY-API-KEY-1";
  c.proxy_password = "CANARY-PROXY-PW";
  c.headers = {{"X-Service-Token", "CANARY-HEADER"}};
  c.check_interval_s = 120;
  c.active = false;
  c.board.enabled = true;
  c.board.interval_s = 30;
  c.board.jql = "project = OPS";
  c.board.max_issues = 7;
  c.board.pipelines = {"Build, with comma", "Deploy"};
  c.saved_status = "not-verified";
  return c;
}

struct CodecTest : ::testing::Test {
  test::CountingEntropy entropy;
  SecretBox box{kKey};
  std::string encode(const Config& c) {
    auto text = encode_config(c, box, entropy);
    EXPECT_TRUE(text.ok());
    return *text;
  }
  // A valid one-connection config, encoded (the sample CA is not a parseable certificate).
  std::string encoded_jira() {
    Config cfg;
    Connection j = full_jira();
    j.ca_cert.clear();
    cfg.connections.push_back(j);
    return encode(cfg);
  }
  Error decode_error(const std::string& text) {
    auto r = decode_config(text, box);
    EXPECT_FALSE(r.ok()) << text;
    return r.ok() ? Error{} : r.error();
  }
};

TEST_F(CodecTest, RoundTripKeepsEveryField) {
  Config cfg;
  cfg.agent.admin_password_hash = "pbkdf2-sha256$1000$c2FsdA==$aGFzaA==";
  cfg.agent.allowed_hosts = {"kiosk.lan"};
  Connection j = full_jira();
  j.ca_cert.clear();  // not a parseable certificate; validated on decode
  cfg.connections.push_back(j);
  Connection a;
  a.id = "ado";
  a.name = "ADO";
  a.provider = "azure-devops";
  a.server_url = "https://dev.azure.com/fabrikam";
  a.auth = "pat";
  a.token = "CANARY-PAT";
  a.use_for_tfvc = true;
  a.project = "Fabrikam Fiber";
  a.imported = true;
  cfg.connections.push_back(a);

  auto back = decode_config(encode(cfg), box);
  ASSERT_TRUE(back.ok()) << back.error().message();
  const Config& got = back->config;
  EXPECT_EQ(got.agent.admin_password_hash, cfg.agent.admin_password_hash);
  EXPECT_EQ(got.agent.allowed_hosts, cfg.agent.allowed_hosts);
  ASSERT_EQ(got.connections.size(), 2u);
  const Connection& g = got.connections[0];
  EXPECT_EQ(g.name, j.name);
  EXPECT_EQ(g.api_key, "CANARY-API-KEY-1");
  EXPECT_EQ(g.proxy_password, "CANARY-PROXY-PW");
  ASSERT_EQ(g.headers.size(), 1u);
  EXPECT_EQ(g.headers[0].name, "X-Service-Token");
  EXPECT_EQ(g.headers[0].value, "CANARY-HEADER");
  EXPECT_EQ(g.check_interval_s, 120);
  EXPECT_FALSE(g.active);
  EXPECT_EQ(g.board.pipelines, j.board.pipelines);
  EXPECT_EQ(g.board.jql, "project = OPS");
  EXPECT_EQ(g.board.max_issues, 7);
  EXPECT_EQ(g.board.interval_s, 30);
  EXPECT_TRUE(g.board.enabled);
  EXPECT_EQ(got.connections[1].token, "CANARY-PAT");
  EXPECT_TRUE(got.connections[1].use_for_tfvc);
  EXPECT_EQ(got.connections[1].project, "Fabrikam Fiber");
  EXPECT_TRUE(got.connections[1].imported);
  EXPECT_FALSE(g.imported);
}

TEST_F(CodecTest, SecretsNeverAppearInTheFile) {
  std::string text = encoded_jira();
  EXPECT_EQ(text.find("CANARY"), std::string::npos) << text;
  EXPECT_NE(text.find("api_key = sealed:"), std::string::npos);
  EXPECT_NE(text.find("header = X-Service-Token sealed:"), std::string::npos);
}

TEST_F(CodecTest, ForeignDeviceKeyIsRejectedWithTheLine) {
  std::string text = encoded_jira();
  SecretBox other(std::string(32, 'x'));
  auto r = decode_config(text, other);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::ConfigInvalid);
  EXPECT_NE(r.error().detail.find("another device key"), std::string::npos);
  EXPECT_EQ(r.error().op.rfind("line ", 0), 0u);
}

TEST_F(CodecTest, SealedValuesCannotBeMovedBetweenFields) {
  std::string text = encoded_jira();
  // Put the proxy password's sealed value where the API key was.
  auto value_of = [&](const std::string& key) {
    size_t at = text.find(key + " = ");
    size_t end = text.find('\n', at);
    return text.substr(at + key.size() + 3, end - at - key.size() - 3);
  };
  std::string api = value_of("api_key"), proxy = value_of("proxy_password");
  text.replace(text.find(api), api.size(), proxy);
  auto r = decode_config(text, box);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find("api_key"), std::string::npos);
}

TEST_F(CodecTest, EveryErrorNamesItsLine) {
  struct Case {
    std::string text;
    std::string line;
    std::string says;
  };
  const Case cases[] = {
      {"", "line 0", "no 'version = 1'"},
      {"# only a comment\n", "line 1", "no 'version = 1'"},
      {"name = x\n", "line 1", "expected 'version = 1'"},
      {"version = 2\n", "line 1", "unsupported format version"},
      {"version = 1\nname = x\n", "line 2", "inside a [section]"},
      {"version = 1\n[nonsense]\n", "line 2", "unknown section"},
      {"version = 1\n[connection Bad_Id]\n", "line 2", "connection id"},
      {"version = 1\n[connection a\n", "line 2", "must end with ']'"},
      {"version = 1\n[connection a]\n[connection a]\n", "line 3", "appears twice"},
      {"version = 1\n[connection a]\nname = x\nname = y\n", "line 4", "set twice"},
      {"version = 1\n[connection a]\njust words\n", "line 3", "key = value"},
      {"version = 1\n[connection a]\ncheck_interval_s = 5\n", "line 3", "from 10 to 86400"},
      {"version = 1\n[connection a]\ncheck_interval_s = ten\n", "line 3", "whole number"},
      // 2^32 + 10: a 32-bit accumulator (long on armhf) wrapped this around to 10 and accepted it.
      {"version = 1\n[connection a]\ncheck_interval_s = 4294967306\n", "line 3", "from 10 to 86400"},
      {"version = 1\n[connection a]\ncheck_interval_s = 99999999999999999999999\n", "line 3", "from 10 to 86400"},
      {"version = 1\n[connection a]\ncheck_interval_s = +60\n", "line 3", "from 10 to 86400"},
      {"version = 1\n[connection a]\ncheck_interval_s = 60s\n", "line 3", "from 10 to 86400"},
      {"version = 1\n[connection a]\nactive = yes\n", "line 3", "true or false"},
      {"version = 1\n[connection a]\ntoken = plain-text\n", "line 3", "must be stored sealed"},
      {"version = 1\n[connection a]\ntoken = sealed:@@@\n", "line 3", "damaged"},
      {"version = 1\n[connection a]\nname = \"open\n", "line 3", "no closing quote"},
      {"version = 1\n[connection a]\nname = \"a\\q\"\n", "line 3", "unknown escape"},
      {"version = 1\n[connection a]\nstatus = great\n", "line 3", "status"},
      {"version = 1\n[connection a]\nboard.max_issues = 99\n", "line 3", "board.max_issues"},
      {"version = 1\n[agent]\nadmin_password = hunter2\n", "line 3", "pbkdf2"},
      {"version = 1\n[agent]\nallowed_host = bad host\n", "line 3", "allowed_host"},
      {"version = 1\n[connection a]\nname = A\nprovider = jira\nserver_url = http://x.example\n", "line 2",
       "[connection a] auth: choose one of"},
      {std::string("version = 1\n[connection a]\nname = x\0y\n", 38), "line 3", "NUL"},
  };
  for (const auto& c : cases) {
    Error e = decode_error(c.text);
    EXPECT_EQ(e.op, c.line) << c.text;
    EXPECT_NE(e.detail.find(c.says), std::string::npos) << c.text << " -> " << e.detail;
  }
}

TEST_F(CodecTest, UnknownKeysAreKeptAndReported) {
  std::string text = encoded_jira();
  text.insert(text.find("[agent]\n") + 8, "future_flag = on\n");
  text.insert(text.find("[connection jira-main]\n") + 23, "new_thing = 42\n");
  auto r = decode_config(text, box);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->warnings.size(), 2u);
  EXPECT_NE(r->warnings[0].find("unknown key 'future_flag'"), std::string::npos);
  std::string again = encode(r->config);
  EXPECT_NE(again.find("future_flag = on"), std::string::npos);
  EXPECT_NE(again.find("new_thing = 42"), std::string::npos);
}

TEST_F(CodecTest, DecodeAppliesFieldValidation) {
  std::string text = encoded_jira();
  text.replace(text.find("https://example.atlassian.net"), 8, "http://");
  Error e = decode_error(text);
  EXPECT_NE(e.detail.find("[connection jira-main] server_url: must use https"), std::string::npos) << e.detail;
  EXPECT_EQ(e.op, "line 7");  // the [connection] header line
}

// A file an earlier agent saved with a pipeline listed twice still loads (validation now
// refuses the repeat): the repeated line is left out and reported, the board is the same.
TEST_F(CodecTest, ARepeatedPipelineLineFromAnEarlierAgentIsLeftOut) {
  std::string text = encoded_jira();
  const size_t at = text.find("board.pipeline = ");
  ASSERT_NE(at, std::string::npos) << text;
  const std::string line = text.substr(at, text.find('\n', at) - at + 1);
  text.insert(at, line);  // the first pipeline twice
  auto back = decode_config(text, box);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->config.connections[0].board.pipelines, full_jira().board.pipelines);
  bool reported = false;
  for (const auto& w : back->warnings) reported = reported || w.find("repeats an earlier line") != std::string::npos;
  EXPECT_TRUE(reported);
}

TEST(ConfigValue, QuotingRoundTrips) {
  for (std::string v : {std::string("plain"), std::string(" edge "), std::string("\"quoted\""),
                        std::string("a\\b"), std::string("line\nbreak\r\t"), std::string("\x01\x7f", 2),
                        std::string("")}) {
    std::string out, why;
    ASSERT_TRUE(decode_value(encode_value(v), out, why)) << why;
    EXPECT_EQ(out, v);
  }
  std::string out, why;
  EXPECT_FALSE(decode_value("\"abc\" trailing", out, why));
  EXPECT_FALSE(decode_value("\"\\x4\"", out, why));
}

}  // namespace
}  // namespace tracklight::firmware
