#include "firmware/model/connection_rules.hpp"

#include <gtest/gtest.h>

namespace tracklight::firmware {
namespace {

Connection jira() {
  Connection c;
  c.id = "j";
  c.name = "Jira";
  c.provider = "jira";
  c.server_url = "https://example.atlassian.net";
  c.auth = "api-key";
  c.username = "mia@example.com";
  c.api_key = "token";
  return c;
}

std::string first_error_for(const Connection& c, const std::string& field) {
  for (const auto& e : validate_connection(c))
    if (e.field == field) return e.message;
  return "";
}

TEST(ConnectionRules, GoodJiraAndAzureDevOpsPass) {
  EXPECT_TRUE(validate_connection(jira()).empty());
  Connection a;
  a.name = "ADO";
  a.provider = "azure-devops";
  a.server_url = "https://dev.azure.com/fabrikam";
  a.auth = "pat";
  a.token = "pat";
  EXPECT_TRUE(validate_connection(a).empty());
  a.server_url = "https://tfs.example:8443/tfs";
  EXPECT_TRUE(validate_connection(a).empty());
}

TEST(ConnectionRules, EachBadFieldIsNamedWithAFix) {
  struct Case {
    void (*mutate)(Connection&);
    const char* field;
    const char* says;
  };
  const Case cases[] = {
      {[](Connection& c) { c.server_url = "http://example.atlassian.net"; }, "server_url", "https"},
      {[](Connection& c) { c.server_url = "https://user:pw@example.net"; }, "server_url", "user name or password"},
      {[](Connection& c) { c.server_url = ""; }, "server_url", "atlassian.net"},
      {[](Connection& c) { c.server_url = "https://exa mple.net"; }, "server_url", "spaces"},
      {[](Connection& c) { c.name = ""; }, "name", "name"},
      {[](Connection& c) { c.provider = "rally"; }, "provider", "Rally is not supported"},
      {[](Connection& c) { c.auth = "oauth1"; }, "auth", "not available in this version"},
      {[](Connection& c) { c.auth = "oauth2"; }, "client_id", "Client ID"},
      {[](Connection& c) { c.auth = "oauth2"; }, "client_secret", "Secret"},
      {[](Connection& c) { c.auth = "oauth2"; }, "redirect_uri", "callback URL"},
      {[](Connection& c) { c.auth = "oauth2"; }, "refresh_token", "Sign in"},
      {[](Connection& c) { c.auth = "oauth2", c.redirect_uri = "http://kiosk.lan/cb"; }, "redirect_uri", "localhost"},
      {[](Connection& c) { c.auth = "kerberos"; }, "auth", "choose one of"},
      {[](Connection& c) { c.username = "mia"; }, "username", "email"},
      {[](Connection& c) { c.api_key = ""; }, "api_key", "API token"},
      {[](Connection& c) { c.api_key = "a\r\nInjected: x"; }, "api_key", "control"},
      {[](Connection& c) { c.token_expires = "2027-02-30"; }, "token_expires", "YYYY-MM-DD"},
      {[](Connection& c) { c.proxy_url = "https://proxy:3128"; }, "proxy_url", "http://host:port"},
      {[](Connection& c) { c.proxy_url = "http://proxy:3128/path"; }, "proxy_url", "without a path"},
      {[](Connection& c) { c.proxy_password = "x"; }, "proxy_url", "proxy"},
      {[](Connection& c) { c.headers = {{"Bad Name", "v"}}; }, "headers[0].name", "letters"},
      {[](Connection& c) { c.headers = {{"Authorization", "v"}}; }, "headers[0].name", "cannot be overridden"},
      {[](Connection& c) { c.headers = {{"X-A", "v\r\nX-B: y"}}; }, "headers[0].value", "line breaks"},
      {[](Connection& c) { c.headers = {{"X-A", "1"}, {"x-a", "2"}}; }, "headers[1].name", "twice"},
      {[](Connection& c) { c.ca_cert = "hello"; }, "ca_cert", "BEGIN CERTIFICATE"},
      {[](Connection& c) { c.ca_cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"; }, "ca_cert", "PEM"},
      {[](Connection& c) { c.check_interval_s = 5; }, "check_interval_s", "10"},
      {[](Connection& c) { c.board.interval_s = 5; }, "board.interval_s", "15"},
      {[](Connection& c) { c.board.jql = std::string(3000, 'x'); }, "board.jql", "2048"},
      {[](Connection& c) { c.tenant_id = "nope"; }, "tenant_id", "GUID"},
      {[](Connection& c) { c.id = "Bad_ID"; }, "id", "a-z"},
  };
  for (const auto& k : cases) {
    Connection c = jira();
    k.mutate(c);
    std::string msg = first_error_for(c, k.field);
    EXPECT_NE(msg.find(k.says), std::string::npos) << k.field << ": '" << msg << "'";
  }
}

TEST(ConnectionRules, AzureDevOpsNeedsOrganisationInServicesUrl) {
  Connection a;
  a.name = "ADO";
  a.provider = "azure-devops";
  a.server_url = "https://dev.azure.com/";
  a.auth = "pat";
  a.token = "x";
  EXPECT_NE(first_error_for(a, "server_url").find("organisation"), std::string::npos);
  a.collection = "a/b";
  EXPECT_NE(first_error_for(a, "collection").find("without slashes"), std::string::npos);
}

TEST(ConnectionRules, ErrorsNeverEchoSecrets) {
  Connection c = jira();
  c.api_key = "CANARY\x01";
  c.password = std::string(5000, 'S');
  for (const auto& e : validate_connection(c)) {
    EXPECT_EQ(e.message.find("CANARY"), std::string::npos);
    EXPECT_EQ(e.message.find("SSSS"), std::string::npos);
  }
}

TEST(Url, ParsesHostsPortsAndRefusesTheRest) {
  Url u;
  EXPECT_EQ(parse_url("https://Jira.Example.com:8443/jira", u), "");
  EXPECT_EQ(u.host, "jira.example.com");
  EXPECT_EQ(u.port, 8443);
  EXPECT_EQ(u.path, "/jira");
  EXPECT_EQ(parse_url("https://[::1]:9/", u), "");
  EXPECT_TRUE(u.host_is_ip);
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(parse_url("https://10.0.0.5", u), "");
  EXPECT_EQ(u.port, 443);
  EXPECT_TRUE(u.host_is_ip);
  EXPECT_NE(parse_url("ftp://x", u), "");
  EXPECT_NE(parse_url("https://x:0", u), "");
  EXPECT_NE(parse_url("https://x:99999", u), "");
  EXPECT_NE(parse_url("https://x:", u), "");
  EXPECT_NE(parse_url("https://-x.example", u), "");
  EXPECT_NE(parse_url("https://x.example/?q=1", u), "");
  EXPECT_NE(parse_url("https://[zz]/", u), "");
  EXPECT_NE(parse_url("example.com", u), "");
}

TEST(Dates, CalendarIsChecked) {
  EXPECT_TRUE(valid_date("2028-02-29"));
  EXPECT_FALSE(valid_date("2027-02-29"));
  EXPECT_FALSE(valid_date("2027-13-01"));
  EXPECT_FALSE(valid_date("27-01-01"));
}

TEST(ConnectionRules, APipelineListedTwiceIsRefusedByItsPosition) {
  Connection c = jira();
  c.board.pipelines = {"CI", "Nightly", "CI"};
  EXPECT_EQ(first_error_for(c, "board.pipelines[2]"), "repeats board.pipelines[0] (CI): list each pipeline once");
  EXPECT_EQ(validate_connection(c).size(), 1u);
  c.board.pipelines = {"CI", "ci"};  // the board matches names exactly: two different pipelines
  EXPECT_TRUE(validate_connection(c).empty());
}

}  // namespace
}  // namespace tracklight::firmware
