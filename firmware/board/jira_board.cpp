// Jira board: a JQL search, counted per status category, with the first issues as the top N.
// Cloud removed /rest/api/{2,3}/search (410 Gone) in favour of /rest/api/3/search/jql, which
// pages with nextPageToken and has no total; Data Center keeps /rest/api/2/search with startAt
// and total (reference/tracker-apis.md section 5). The flavour is learnt from the first answer.
#include <optional>

#include "firmware/board/board_fetch.hpp"

namespace tracklight::firmware {
namespace {

using nlohmann::json;

const char* kFields = "summary,status,assignee,priority";
const char* const kCategories[] = {"new", "indeterminate", "done", "undefined"};

size_t category_index(const std::string& key) {
  for (size_t i = 0; i < 3; ++i)
    if (key == kCategories[i]) return i;
  return 3;  // undefined: a key Jira may add later
}

struct Tally {
  int64_t counts[4] = {0, 0, 0, 0};  // per kCategories
  json issues = json::array();
  int64_t seen = 0;
};

// Colour and logic key on statusCategory.key: the status names are localised.
void add_issues(const JsonNode& list, const Connection& c, const std::string& browse, Tally& t) {
  for (size_t i = 0; i < list.size(); ++i) {
    const JsonNode issue = list.item(i).as_object();
    if (!issue.present()) continue;
    t.seen++;
    const JsonNode fields = issue.object("fields");
    const JsonNode status = fields.object("status");
    const size_t at = category_index(status.object("statusCategory").string("key"));
    const std::string category = kCategories[at];
    t.counts[at]++;
    if (static_cast<int>(t.issues.size()) >= c.board.max_issues) continue;
    const std::string key = clip_utf8(issue.string("key"), 64);
    t.issues.push_back({{"key", key},
                        {"summary", clip_utf8(fields.string("summary"), 200)},
                        {"status", clip_utf8(status.string("name"), 64)},
                        {"category", category},
                        {"assignee", clip_utf8(fields.object("assignee").string("displayName"), 128)},
                        {"priority", clip_utf8(fields.object("priority").string("name"), 32)},
                        {"url", key.empty() ? "" : browse + query_value(key)}});
  }
}

// One page of a search: its issues are added to the tally. False when it failed (out.error says why).
bool search_page(BoardClient& client, const std::string& path, const Connection& c, const std::string& browse,
                 Tally& t, std::string& next_token, bool& last, int64_t& total) {
  platform::HttpsResponse raw;
  if (!client.get_json(path, raw)) return false;
  JsonDoc doc(raw);
  const JsonNode body = doc.root();
  const JsonNode issues = body.array("issues");
  add_issues(issues, c, browse, t);
  next_token = body.string("nextPageToken");
  const std::optional<bool> is_last = body.boolean("isLast");
  total = body.int64("total").value_or(0);
  if (!client.decoded(path, doc)) return false;
  if (!issues.present()) {
    client.out.error = "the search answer has no list of issues";
    return false;
  }
  last = issues.size() == 0 || is_last.value_or(next_token.empty());
  return true;
}

// Cloud: nextPageToken until isLast. Returns false on failure; `complete` says whether every
// page was read.
bool search_cloud(BoardClient& client, const std::string& base, const std::string& jql, const Connection& c,
                  const std::string& browse, Tally& t, bool& complete) {
  std::string token;
  const std::string path = base + "/rest/api/3/search/jql?jql=" + query_value(jql) +
                           "&maxResults=" + std::to_string(kBoardPageSize) + "&fields=" + kFields;
  for (int page = 0; page < kBoardMaxPages; ++page) {
    bool last = false;
    int64_t total = 0;
    if (!search_page(client, path + (token.empty() ? "" : "&nextPageToken=" + query_value(token)), c, browse, t, token,
                     last, total))
      return false;
    if (last || token.empty()) return complete = true;
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
    std::string token;
    bool last = false;
    const int64_t before = t.seen;
    if (!search_page(client, path + "&startAt=" + std::to_string(t.seen), c, browse, t, token, last, total)) return false;
    if (t.seen == before || t.seen >= total) return complete = true;
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
  json counts = json::object();
  for (size_t i = 0; i < 4; ++i) counts[kCategories[i]] = t.counts[i];
  client.out.data = {{"jira",
                      {{"jql", jql}, {"total", total}, {"complete", complete && total == t.seen},
                       {"counts", std::move(counts)}, {"issues", std::move(t.issues)}}}};
}

}  // namespace tracklight::firmware
