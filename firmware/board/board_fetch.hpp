// Fetching one connection's board data from its tracker (SPEC section 5, reference/
// tracker-apis.md sections 5, 8 and 9). One TLS connection per fetch, kept alive across pages.
//
//   Azure DevOps  one request per project (not per pipeline): the two latest builds of every
//                 definition, so a running build still shows the last finished result.
//   Jira          a JQL search, paged (Cloud: /rest/api/3/search/jql with nextPageToken; Data
//                 Center: /rest/api/2/search with startAt), counted per status category.
//
// Rate limits: Retry-After and X-RateLimit-Delay are honoured on any status (Azure DevOps
// delays with a 200), and a nearly spent budget (X-RateLimit-Remaining under a fifth of the
// limit, X-RateLimit-NearLimit) is reported so the poller slows down.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include "firmware/tracker/endpoint.hpp"
#include "firmware/model/connection.hpp"
#include "firmware/tracker/json_read.hpp"

namespace tracklight::firmware {

constexpr int kBoardPageSize = 100;
constexpr int kBoardMaxPages = 5;        // bounds the requests and the memory of one fetch
constexpr size_t kBoardMaxPipelines = 50;
constexpr const char* kDefaultJql = "updated >= -30d ORDER BY priority DESC, updated DESC";

struct BoardFetch {
  bool ok = false;
  nlohmann::json data;       // the source's board block (see board_json.hpp)
  std::string error;         // why it failed, for the person looking at the board
  int http_status = 0;       // the status of the answer that failed it; 0: no usable answer
  // Retrying cannot help (credentials refused, a sign-in page, bad JQL, no such project):
  // not retried until the settings change, so a revoked token cannot lock the account.
  bool needs_settings = false;
  int64_t wait_s = 0;        // the server asked us to wait this long before the next request
  bool near_limit = false;   // the server's rate budget is nearly spent
  int requests = 0;
};

// `jira_flavour` is "" (not yet known), "cloud" or "dc"; the fetch learns it once (one extra
// request) and the caller keeps it for the next fetch.
BoardFetch fetch_board(const Connection& c, TrackerEnv& env, std::string& jira_flavour);

// --- shared by the two providers -----------------------------------------------------------
struct BoardClient {
  platform::HttpsConnection& conn;
  const platform::HeaderList& headers;
  BoardFetch& out;
  // A GET whose answer must be 200 and say it is JSON; anything else is described in
  // out.error. Rate-limit headers are read from every answer.
  bool get_json(const std::string& path, platform::HttpsResponse& answer);
  // After reading `doc`, the answer to `path`: false, with out.error naming the field, when it
  // was not a JSON object or a field had an unexpected type.
  bool decoded(const std::string& path, const JsonDoc& doc);
};

std::string query_value(const std::string& text);  // percent-encodes a query parameter value

void fetch_azure_board(const Connection& c, BoardClient& client, const std::string& base_path);
void fetch_jira_board(const Connection& c, BoardClient& client, const std::string& base_path, std::string& flavour);

}  // namespace tracklight::firmware
