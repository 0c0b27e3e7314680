// Jira board: a JQL search, counted per status category, with the first issues as the top N.
// Cloud removed /rest/api/{2,3}/search (410 Gone) in favour of /rest/api/3/search/jql, which
// pages with nextPageToken and has no total; Data Center keeps /rest/api/2/search with startAt
// and total (reference/tracker-apis.md section 5). The flavour is learnt from the first answer.
#include "firmware/board/board_fetch.hpp"

namespace tracklight::firmware {
namespace {

using nlohmann::json;

const char* kFields = "summary,status,assignee,priority";

struct Tally {
  json counts = {{"new", 0}, {"indeterminate", 0}, {"done", 0}, {"undefined", 0}};
  json issues = json::array();
  int64_t seen = 0;
};

// Colour and logic key on statusCategory.key: the status names are localised.
void add_issues(const json& list, const Connection& c, const std::string& browse, Tally& t) {
  for (const json& issue : list) {
    if (!issue.is_object()) continue;
    t.seen++;
    const json& fields = issue.contains("fields") && issue["fields"].is_object() ? issue["fields"] : json::object();
    const json& status = fields.contains("status") ? fields["status"] : json();
    std::string category = status.is_object() && status.contains("statusCategory") ? str_at(status["statusCategory"], "key") : "";
    if (category != "new" && category != "indeterminate" && category != "done") category = "undefined";
    t.counts[category] = t.counts[category].get<int64_t>() + 1;
    if (static_cast<int>(t.issues.size()) >= c.board.max_issues) continue;
    const std::string key = clip_utf8(str_at(issue, "key"), 64);
    t.issues.push_back({{"key", key},
                        {"summary", clip_utf8(str_at(fields, "summary"), 200)},
                        {"status", clip_utf8(str_at(status, "name"), 64)},
                        {"category", category},
                        {"assignee", fields.contains("assignee") ? clip_utf8(str_at(fields["assignee"], "displayName"), 128) : ""},
                        {"priority", fields.contains("priority") ? clip_utf8(str_at(fields["priority"], "name"), 32) : ""},
                        {"url", key.empty() ? "" : browse + query_value(key)}});
  }
}

// Cloud: nextPageToken until isLast. Returns false on failure; `complete` says whether every
// page was read.
bool search_cloud(BoardClient& client, const std::string& base, const std::string& jql, const Connection& c,
                  const std::string& browse, Tally& t, bool& complete) {
  std::string token;
  const std::string path = base + "/rest/api/3/search/jql?jql=" + query_value(jql) +
                           "&maxResults=" + std::to_string(kBoardPageSize) + "&fields=" + kFields;
  for (int page = 0; page < kBoardMaxPages; ++page) {
    json body;
    if (!client.get_json(path + (token.empty() ? "" : "&nextPageToken=" + query_value(token)), body)) return false;
    if (!body.contains("issues") || !body["issues"].is_array()) {
      client.out.error = "the search answer has no list of issues";
      return false;
    }
    add_issues(body["issues"], c, browse, t);
    token = str_at(body, "nextPageToken");
    const bool last = body.contains("isLast") && body["isLast"].is_boolean() ? body["isLast"].get<bool>() : token.empty();
    if (last || token.empty() || body["issues"].empty()) return complete = true;
  }
  complete = false;
  return true;
}

// Data Center: startAt until total.
bool search_dc(BoardClient& client, const std::string& base, const std::string& jql, const Connection& c,
               const std::string& browse, Tally& t, bool& complete, int64_t& total) {
  const std::string path = base + "/rest/api/2/search?jql=" + query_value(jql) +
                           "&maxResults=" + std::to_string(kBoardPageSize) + "&fields=" + kFields;
  for (int page = 0; page < kBoardMaxPages; ++page) {
    json body;
    if (!client.get_json(path + "&startAt=" + std::to_string(t.seen), body)) return false;
    if (!body.contains("issues") || !body["issues"].is_array()) {
      client.out.error = "the search answer has no list of issues";
      return false;
    }
    total = body.contains("total") && body["total"].is_number_integer() ? body["total"].get<int64_t>() : 0;
    add_issues(body["issues"], c, browse, t);
    if (body["issues"].empty() || t.seen >= total) return complete = true;
  }
  complete = false;
  return true;
}

}  // namespace

void fetch_jira_board(const Connection& c, BoardClient& client, const std::string& base_path, std::string& flavour) {
  const std::string jql = c.board.jql.empty() ? kDefaultJql : c.board.jql;
  std::string site = c.server_url;
  while (!site.empty() && site.back() == '/') site.pop_back();
  const std::string browse = site + "/browse/";
  Tally t;
  bool complete = false;
  int64_t total = -1;
  bool ok = false;
  if (flavour != "dc") {
    ok = search_cloud(client, base_path, jql, c, browse, t, complete);
    if (!ok && flavour.empty() && client.out.http_status == 404) {
      client.out.error.clear();  // Data Center has no /rest/api/3/search/jql
      client.out.http_status = 0;
      flavour = "dc";
    } else if (ok) {
      flavour = "cloud";
    }
  }
  if (flavour == "dc") {
    ok = search_dc(client, base_path, jql, c, browse, t, complete, total);
    if (!ok && client.out.http_status == 410) flavour = "";  // moved to Cloud: learn again next time
  }
  if (!ok) {
    if (client.out.http_status == 400) {
      client.out.error = "Jira refused the JQL query (HTTP 400): check the board's JQL";
      client.out.needs_settings = true;
    }
    return;
  }
  if (total < t.seen) total = t.seen;
  client.out.data = {{"jira",
                      {{"jql", jql}, {"total", total}, {"complete", complete && total == t.seen},
                       {"counts", std::move(t.counts)}, {"issues", std::move(t.issues)}}}};
}

}  // namespace tracklight::firmware
