// The API handlers called directly (no sockets), on in-memory platform fakes: what the API
// unit tests share.
#pragma once
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "firmware/agent.hpp"
#include "firmware/web/router.hpp"
#include "tests/support/fakes.hpp"

namespace tracklight::firmware {

using nlohmann::json;
using platform::HttpRequest;
using platform::HttpResponse;

struct ApiTest : ::testing::Test {
  test::MemoryFs fs;
  test::FakeClock clock;
  test::CountingEntropy entropy;
  platform::MemoryLogger log;
  test::FakeHttps https;
  std::unique_ptr<Agent> agent;
  std::string cookie, csrf;

  void SetUp() override { start(); }
  void start() {
    AgentOptions o;
    o.state_dir = "state";
    o.host_name = "kiosk";
    o.password_iterations = 1000;
    agent = std::make_unique<Agent>(o, fs, clock, entropy, log, https);
    https.respond = test::happy_jira_cloud;
    ASSERT_TRUE(agent->start().ok());
  }
  HttpResponse call(const std::string& method, const std::string& path, const std::string& body = "",
                    platform::HeaderList extra = {}) {
    HttpRequest r;
    r.method = method;
    size_t q = path.find('?');
    r.path = path.substr(0, q);
    for (size_t at = q; at != std::string::npos;) {  // name=value pairs, split at '&'
      const size_t end = path.find('&', at + 1);
      const std::string kv = path.substr(at + 1, end == std::string::npos ? std::string::npos : end - at - 1);
      r.query.emplace_back(kv.substr(0, kv.find('=')), kv.find('=') == std::string::npos ? "" : kv.substr(kv.find('=') + 1));
      at = end;
    }
    r.body = body;
    r.remote_addr = "192.0.2.10";
    r.headers = {{"Host", "127.0.0.1:8080"}};
    if (!body.empty()) r.headers.emplace_back("Content-Type", "application/json");
    if (!cookie.empty()) r.headers.emplace_back("Cookie", "theme=dark; tracklight_session=" + cookie);
    if (!csrf.empty()) r.headers.emplace_back("X-CSRF-Token", csrf);
    for (auto& h : extra) {
      bool replaced = false;
      for (auto& have : r.headers)
        if (have.first == h.first) have.second = h.second, replaced = true;
      if (!replaced) r.headers.push_back(h);
    }
    return agent->handle(r);
  }
  static json body_of(const HttpResponse& r) { return json::parse(r.body); }
  static std::string code_of(const HttpResponse& r) { return body_of(r)["error"]["code"]; }
  static std::string header_of(const HttpResponse& r, const std::string& name) {
    for (const auto& h : r.headers)
      if (h.first == name) return h.second;
    return "";
  }
  void take_session(const HttpResponse& r) {
    std::string sc = header_of(r, "Set-Cookie");
    cookie = sc.substr(sc.find('=') + 1, 64);
    csrf = body_of(r)["csrf_token"];
  }
  void set_up_admin() {
    auto r = call("POST", "/api/v1/setup",
                  json{{"setup_code", agent->state().setup_code}, {"password", "correct horse"}}.dump());
    ASSERT_EQ(r.status, 200) << r.body;
    take_session(r);
  }
  static json jira_body() {
    return {{"name", "Team Jira"}, {"provider", "jira"}, {"server_url", "https://example.atlassian.net"},
            {"auth", "api-key"}, {"username", "mia@example.com"}, {"api_key", "CANARY-API-KEY"},
            {"headers", json::array({{{"name", "X-Service-Token"}, {"value", "CANARY-HEADER"}}})},
            {"board", {{"enabled", true}, {"jql", "project = OPS"}}}};
  }
};

}  // namespace tracklight::firmware
