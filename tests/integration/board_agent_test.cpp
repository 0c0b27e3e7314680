// The kiosk through the real binary: Connect both trackers with boards, then /api/v1/board
// (ETag and 304), /cc.xml (well-formed for an XML parser, matching the board), and a restart
// with the trackers gone: the cached board comes back marked stale.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <thread>

#include "tests/integration/tracker_fixture.hpp"

namespace tracklight::test {
namespace {

using nlohmann::json;

struct BoardAgentTest : TrackerTest {
  std::string state = tmp.path() + "/state";

  static json jira_body(int port) {
    return {{"name", "Team Jira"}, {"provider", "jira"}, {"server_url", "https://localhost:" + std::to_string(port)},
            {"auth", "api-key"}, {"username", kEmail}, {"api_key", kToken}, {"ca_cert", test_ca_pem()},
            {"board", {{"enabled", true}, {"jql", "project = TL"}, {"max_issues", 4}}}};
  }
  static json ado_body(int port) {
    return {{"name", "Builds & <Deploys>"}, {"provider", "azure-devops"},
            {"server_url", "https://localhost:" + std::to_string(port) + "/tfs"}, {"auth", "pat"}, {"token", kPat},
            {"ca_cert", test_ca_pem()}, {"board", {{"enabled", true}}}};
  }
  // Polls /api/v1/board until every source satisfies `ready` (at most 15 s).
  static json wait_for_board(ApiClient& c, const std::function<bool(const json&)>& ready) {
    json board;
    for (int i = 0; i < 150; ++i) {
      auto r = c.send("GET", "/api/v1/board");
      if (r && r->status == 200) {
        board = json::parse(r->body);
        bool all = !board["sources"].empty();
        for (const auto& s : board["sources"]) all = all && ready(s);
        if (all) return board;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return board;
  }
};

TEST_F(BoardAgentTest, BoardFeedsAndCacheThroughTheBinary) {
  json jira_scenario = jira_cloud();
  jira_scenario["issues"] = 9;
  json ado_scenario = ado();
  auto jira_fake = std::make_unique<FakeTracker>(tmp.path(), jira_scenario, "good");
  auto ado_fake = std::make_unique<FakeTracker>(tmp.path(), ado_scenario, "noip");
  ASSERT_GT(jira_fake->port(), 0);
  ASSERT_GT(ado_fake->port(), 0);
  AgentProcess agent(state);
  ASSERT_TRUE(agent.start()) << agent.log();
  ApiClient c(agent.port());
  ASSERT_TRUE(c.setup(setup_code_of(state), "correct horse battery"));
  auto put = c.send("PUT", "/api/v1/connections/jira", jira_body(jira_fake->port()).dump());
  ASSERT_EQ(put->status, 200) << put->body;
  put = c.send("PUT", "/api/v1/connections/ado", ado_body(ado_fake->port()).dump());
  ASSERT_EQ(put->status, 200) << put->body;

  json board = wait_for_board(c, [](const json& s) { return s["stale"] == false; });
  ASSERT_EQ(board["sources"].size(), 2u) << board.dump(1);
  const json& jira = board["sources"][0];
  EXPECT_EQ(jira["id"], "jira");
  EXPECT_EQ(jira["jira"]["total"], 9);
  EXPECT_EQ(jira["jira"]["issues"].size(), 4u);
  const json& ado = board["sources"][1];
  EXPECT_EQ(ado["pipelines"].size(), 3u);
  EXPECT_TRUE(ado["fetched_at"].is_string());
  const std::string body = board.dump();
  EXPECT_EQ(body.find(kToken), std::string::npos);
  EXPECT_EQ(body.find(kPat), std::string::npos);

  // An unchanged board costs a 304.
  auto first = c.send("GET", "/api/v1/board");
  const std::string etag = first->get_header_value("ETag");
  ASSERT_FALSE(etag.empty());
  auto again = c.send("GET", "/api/v1/board", "", {{"If-None-Match", etag}});
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());

  // CCTray: an XML parser accepts it, and it says what the board says.
  auto cc = c.send("GET", "/cc.xml");
  ASSERT_EQ(cc->status, 200);
  EXPECT_EQ(cc->get_header_value("Content-Type").rfind("application/xml", 0), 0u);
  const std::string xml_path = tmp.path() + "/cc.xml";
  std::ofstream(xml_path) << cc->body;
  const std::string check =
      "python3 -c \"import sys,xml.etree.ElementTree as E; r=E.parse(sys.argv[1]).getroot(); "
      "assert r.tag=='Projects'; ps=r.findall('Project'); assert len(ps)==3, len(ps); "
      "d={p.get('name'):p for p in ps}; n=d['Builds & <Deploys> / Deploy']; "
      "assert n.get('activity')=='Building' and n.get('lastBuildStatus')=='Success', n.attrib; "
      "f=d['Builds & <Deploys> / Nightly']; assert f.get('lastBuildStatus')=='Failure' and f.get('lastBuildLabel')=='20261125.2'; "
      "assert all(p.get(a) for p in ps for a in ('webUrl','lastBuildTime','lastBuildLabel'))\" " + xml_path;
  EXPECT_EQ(std::system(check.c_str()), 0) << cc->body;

  // Reboot with both trackers unreachable: the last known board, marked stale.
  EXPECT_EQ(agent.stop(), 0);
  jira_fake.reset();
  ado_fake.reset();
  AgentProcess again_agent(state);
  ASSERT_TRUE(again_agent.start()) << again_agent.log();
  ApiClient c2(again_agent.port());
  json cached = json::parse(c2.send("GET", "/api/v1/board")->body);  // loopback: no login needed
  ASSERT_EQ(cached["sources"].size(), 2u) << cached.dump(1);
  for (const auto& s : cached["sources"]) {
    EXPECT_EQ(s["stale"], true);
    EXPECT_FALSE(s["reason"].get<std::string>().empty());
  }
  EXPECT_EQ(cached["sources"][0]["jira"]["total"], 9);
  EXPECT_EQ(cached["sources"][1]["pipelines"].size(), 3u);
  json failed = wait_for_board(c2, [](const json& s) { return s["reason"].get<std::string>().find("cannot reach") != std::string::npos; });
  EXPECT_EQ(failed["sources"][1]["pipelines"].size(), 3u) << failed.dump(1);
  EXPECT_EQ(again_agent.log().find(kToken), std::string::npos);
}

}  // namespace
}  // namespace tracklight::test
