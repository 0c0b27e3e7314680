// Azure DevOps board: the latest build of every pipeline definition in the project, in one
// request per page (reference/tracker-apis.md section 8, "latest per pipeline").
#include <algorithm>
#include <map>

#include "firmware/board/board_fetch.hpp"
#include "firmware/model/connection_rules.hpp"
#include "firmware/model/text.hpp"

namespace tracklight::firmware {
namespace {

using nlohmann::json;

// One word a wall screen can show next to the colour.
std::string state_of(const JsonNode& build) {
  const std::string status = build.string("status");
  if (status == "inProgress") return "in-progress";
  if (status == "notStarted" || status == "postponed") return "queued";
  if (status == "cancelling") return "canceling";
  const std::string result = build.string("result");
  if (result == "succeeded") return "succeeded";
  if (result == "partiallySucceeded") return "partially-succeeded";
  if (result == "failed") return "failed";
  if (result == "canceled") return "canceled";
  return "unknown";
}

bool finished(const std::string& state) {
  return state != "in-progress" && state != "queued" && state != "canceling" && state != "unknown";
}

std::string short_branch(const std::string& ref) {
  const std::string heads = "refs/heads/";
  return ref.rfind(heads, 0) == 0 ? ref.substr(heads.size()) : ref;
}

// Orders pipelines by name, ignoring case, as the Azure DevOps pipeline list does.
std::string order_key(const std::string& name) { return lower(name) + '\0' + name; }

json tile_of(const std::string& name, const JsonNode& build) {
  std::string url = build.object("_links").object("web").string("href");
  if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0) url.clear();
  return {{"name", clip_utf8(name, 256)},
          {"state", state_of(build)},
          {"last_result", nullptr},
          {"build_number", clip_utf8(build.string("buildNumber"), 128)},
          {"branch", clip_utf8(short_branch(build.string("sourceBranch")), 256)},
          {"requested_by", clip_utf8(build.object("requestedFor").string("displayName"), 128)},
          {"queued_at", clip_utf8(build.string("queueTime"), 40)},
          {"finished_at", clip_utf8(build.string("finishTime"), 40)},
          {"url", clip_utf8(url, 2048)}};
}

bool wanted(const Connection& c, const std::string& name) {
  return c.board.pipelines.empty() ||
         std::find(c.board.pipelines.begin(), c.board.pipelines.end(), name) != c.board.pipelines.end();
}

// Newest first: the first build of a definition is its tile; the first finished one gives the
// last result while a newer build runs.
void add_builds(const Connection& c, const JsonNode& builds, std::map<std::string, json>& latest) {
  for (size_t i = 0; i < builds.size(); ++i) {
    const JsonNode build = builds.item(i).as_object();
    const std::string name = build.object("definition").string("name");
    if (name.empty() || !wanted(c, name)) continue;
    auto it = latest.find(order_key(name));
    if (it == latest.end()) {
      if (latest.size() >= kBoardMaxPipelines) continue;
      it = latest.emplace(order_key(name), tile_of(name, build)).first;
    }
    json& tile = it->second;
    const std::string state = state_of(build);
    if (tile["last_result"].is_null() && finished(state)) tile["last_result"] = state;
  }
}

// In the order the person chose, each name once; else by name.
json tiles_of(const Connection& c, std::map<std::string, json>& latest) {
  json tiles = json::array();
  if (c.board.pipelines.empty()) {
    for (auto& kv : latest) tiles.push_back(std::move(kv.second));
    return tiles;
  }
  for (const auto& name : c.board.pipelines) {
    auto it = latest.find(order_key(name));
    if (it == latest.end()) continue;
    tiles.push_back(std::move(it->second));
    latest.erase(it);  // a name listed twice gets one tile, never a moved-from null
  }
  return tiles;
}

}  // namespace

void fetch_azure_board(const Connection& c, BoardClient& client, const std::string&) {
  BoardFetch& out = client.out;
  std::string why;
  const std::string col = azure_collection_path(c, why);
  if (c.project.empty()) {
    out.error = "no project is set: enter the Project in the connection's settings (Connect detects it when there is only one)";
    out.needs_settings = true;
    return;
  }
  std::string path = col + "/" + query_value(c.project) +
                     "/_apis/build/builds?maxBuildsPerDefinition=2&queryOrder=queueTimeDescending&$top=1000&api-version=7.1";
  if (!c.board.branch.empty())
    path += "&branchName=" + query_value(c.board.branch.rfind("refs/", 0) == 0 ? c.board.branch : "refs/heads/" + c.board.branch);

  std::map<std::string, json> latest;  // by order_key(definition name)
  std::string continuation;
  for (int page = 0; page < kBoardMaxPages; ++page) {
    const std::string page_path = path + (continuation.empty() ? "" : "&continuationToken=" + query_value(continuation));
    platform::HttpsResponse raw;
    if (!client.get_json(page_path, raw)) {
      if (out.http_status == 404) {  // TF200016
        out.error = "the project '" + c.project + "' does not exist on this server (HTTP 404): check the Project";
        out.needs_settings = true;
      }
      return;
    }
    JsonDoc doc(raw);
    const JsonNode builds = doc.root().array("value");
    add_builds(c, builds, latest);
    if (!client.decoded(page_path, doc)) return;
    if (!builds.present()) {
      out.error = "the builds answer has no list of builds";
      return;
    }
    const std::string* next = raw.header("x-ms-continuationtoken");
    if (!next || next->empty()) break;
    continuation = *next;
  }
  json tiles = tiles_of(c, latest);
  out.data = {{"pipelines", std::move(tiles)}};
}

}  // namespace tracklight::firmware
