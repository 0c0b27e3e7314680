// The board's encodings: the cache file accepts only what the agent writes (a damaged or edited
// file is refused with a reason and the board starts empty), and the CCTray feed escapes
// whatever names a tracker sends.
#include <gtest/gtest.h>

#include "firmware/board/board_poller.hpp"
#include "firmware/board/board_source.hpp"
#include "tests/support/fakes.hpp"

namespace tracklight::firmware {
namespace {

using nlohmann::json;

BoardSource pipelines_source() {
  BoardSource s;
  s.id = "ado";
  s.name = "Builds";
  s.provider = "azure-devops";
  s.server_url = "https://dev.azure.com/org";
  s.fetched_at_s = 1795000000;
  s.data = {{"pipelines",
             {{{"name", "CI\x01<x>"}, {"state", "in-progress"}, {"last_result", "failed"}, {"build_number", "7"},
               {"branch", "main"}, {"requested_by", "Mia"}, {"queued_at", "2026-11-18T10:00:00Z"},
               {"finished_at", ""}, {"url", "https://x/?a=1&b=2"}}}}};
  return s;
}

TEST(BoardSourceTest, CacheRoundTripsAndRefusesWhatTheAgentNeverWrites) {
  std::vector<BoardSource> back;
  std::string why;
  ASSERT_TRUE(decode_board_cache(encode_board_cache({pipelines_source()}), back, why)) << why;
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].data, pipelines_source().data);
  EXPECT_EQ(back[0].fetched_at_s, 1795000000);
  for (const char* bad : {"", "[]", "{\"version\":2,\"sources\":[]}", "{\"version\":\"1\",\"sources\":[]}",
                          "{\"version\":1,\"sources\":{}}"}) {
    back.clear();
    EXPECT_FALSE(decode_board_cache(bad, back, why)) << bad;
    EXPECT_FALSE(why.empty());
  }
  // Entries the agent never writes are left out one by one, each named with what is wrong.
  struct Case {
    const char* entry;
    const char* why;
  };
  for (const Case& k : {Case{R"({"id":"a","fetched_at":1,"data":{"pipelines":[{"name":5}]}})",
                             "entry 1 (connection a): field sources[0].data.pipelines[0].name is an integer, expected a string"},
                        Case{R"({"id":"a","fetched_at":1,"data":{"script":"<x>"}})", "entry 1 (connection a): field sources[0].data has neither pipelines nor jira"},
                        Case{R"({"id":"a","fetched_at":"1","data":{"pipelines":[]}})",
                             "entry 1 (connection a): field sources[0].fetched_at is a string, expected an integer"},
                        Case{R"({"id":"a","fetched_at":1,"data":{"pipelines":[null]}})",
                             "entry 1 (connection a): field sources[0].data.pipelines[0] is null, expected an object"},
                        Case{R"("x")", "entry 1: field sources[0] is a string, expected an object"}}) {
    back.clear();
    std::vector<std::string> dropped;
    const std::string text = std::string(R"({"version":1,"sources":[)") + k.entry + "]}";
    EXPECT_TRUE(decode_board_cache(text, back, why, &dropped)) << k.entry;
    EXPECT_TRUE(back.empty()) << k.entry;
    ASSERT_EQ(dropped.size(), 1u) << k.entry;
    EXPECT_EQ(dropped[0].rfind(k.why, 0), 0u) << dropped[0];
  }
}

// A cache written by an agent that kept a null tile for a pipeline listed twice: only that
// entry is lost, the other boards show their last state at once.
TEST(BoardSourceTest, ADamagedEntryCostsThatEntryNotTheWholeCache) {
  BoardSource jira;
  jira.id = "jira";
  jira.provider = "jira";
  jira.fetched_at_s = 1795000001;
  jira.data = {{"jira", {{"jql", "x"}, {"total", 1}, {"complete", true},
                         {"counts", {{"new", 1}, {"indeterminate", 0}, {"done", 0}, {"undefined", 0}}},
                         {"issues", {{{"key", "A-1"}, {"summary", "s"}, {"status", "To Do"}, {"category", "new"},
                                      {"assignee", nullptr}, {"priority", ""}, {"url", ""}}}}}}};
  json file = json::parse(encode_board_cache({pipelines_source(), jira}));
  file["sources"][0]["data"]["pipelines"].push_back(nullptr);  // what the duplicate-name bug wrote
  test::MemoryFs fs;
  test::FakeClock clock;
  test::FakeHttps https;
  platform::MemoryLogger log;
  fs.files["state/board-cache.json"] = file.dump();
  BoardPoller poller(clock, https, fs, log, "state/board-cache.json", 20000);
  poller.load_cache();
  Connection a, j;
  a.id = "ado";
  a.provider = "azure-devops";
  a.server_url = "https://dev.azure.com/org";
  a.board.enabled = true;
  j.id = "jira";
  j.provider = "jira";
  j.board.enabled = true;
  poller.sync({a, j});
  const auto sources = poller.sources();
  ASSERT_EQ(sources.size(), 2u);
  EXPECT_TRUE(sources[0].data.is_null()) << "the damaged entry was kept";
  EXPECT_EQ(sources[1].data, jira.data) << "an intact entry was dropped with the damaged one";
  EXPECT_EQ(sources[1].fetched_at_s, 1795000001);
  size_t named = 0;
  for (const auto& line : log.lines())
    named += line.find("entry 1 (connection ado): field sources[0].data.pipelines[1] is null, expected an object") !=
             std::string::npos;
  EXPECT_EQ(named, 1u);
}

TEST(BoardSourceTest, CctrayEscapesNamesAndMapsStates) {
  const std::string x = cctray_xml({pipelines_source()});
  EXPECT_NE(x.find("name=\"Builds / CI &lt;x&gt;\" activity=\"Building\" lastBuildStatus=\"Failure\" "
                   "lastBuildLabel=\"7\" lastBuildTime=\"2026-11-18T10:00:00Z\" webUrl=\"https://x/?a=1&amp;b=2\"/>"),
            std::string::npos)
      << x;
  EXPECT_EQ(x.find('\x01'), std::string::npos);
  BoardSource jira;
  jira.data = {{"jira", json::object()}};
  EXPECT_EQ(cctray_xml({jira}), "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Projects>\n</Projects>\n");
}

TEST(BoardSourceTest, DamagedCacheIsReportedAndTheBoardStartsEmpty) {
  test::MemoryFs fs;
  test::FakeClock clock;
  test::FakeHttps https;
  platform::MemoryLogger log;
  fs.files["state/board-cache.json"] = "{\"version\":1,\"sources\":[{\"id\":";
  BoardPoller poller(clock, https, fs, log, "state/board-cache.json", 20000);
  poller.load_cache();
  Connection c;
  c.id = "ado";
  c.provider = "azure-devops";
  c.board.enabled = true;
  poller.sync({c});
  ASSERT_EQ(poller.sources().size(), 1u);
  EXPECT_TRUE(poller.sources()[0].data.is_null());
  EXPECT_EQ(poller.sources()[0].reason, "waiting for the first fetch");
  bool warned = false;
  for (const auto& line : log.lines()) warned = warned || line.find("ignoring the board cache") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST(BoardSourceTest, CacheIsRewrittenWhenTheDataChangesNotOnEveryPoll) {
  test::MemoryFs fs;
  test::FakeClock clock;
  test::FakeHttps https;
  platform::MemoryLogger log;
  std::string number = "1";
  https.respond = [&](const std::string&) {
    platform::HttpsResponse r;
    r.status = 200;
    r.headers = {{"Content-Type", "application/json"}};
    r.body = R"({"count":1,"value":[{"buildNumber":")" + number + R"(","status":"completed","result":"succeeded","definition":{"name":"CI"}}]})";
    return r;
  };
  BoardPoller poller(clock, https, fs, log, "state/board-cache.json", 20000);
  Connection c;
  c.id = "ado";
  c.provider = "azure-devops";
  c.server_url = "https://dev.azure.com/org";
  c.auth = "pat";
  c.token = "t";
  c.name = "Builds";
  c.project = "P";
  c.board.enabled = true;
  poller.sync({c});
  auto poll = [&](int64_t s) {
    clock.now_ms += s * 1000;
    clock.wall_s += s;
    poller.tick();
    return fs.files["state/board-cache.json"];
  };
  const std::string first = poll(2);
  ASSERT_NE(first.find("\"1\""), std::string::npos) << poller.sources()[0].reason;
  EXPECT_EQ(poll(70), first) << "unchanged data was written again";
  number = "2";
  const std::string second = poll(70);
  EXPECT_NE(second.find("\"2\""), std::string::npos) << second;
  std::string later;
  for (int i = 0; i < 10; ++i) later = poll(70);  // over 10 minutes of unchanged data
  EXPECT_NE(later, second) << "fetched_at in the cache never moves on";
  EXPECT_EQ(https.requests.size(), 13u);
}

}  // namespace
}  // namespace tracklight::firmware
