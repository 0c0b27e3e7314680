// The board's parsers against hostile input. Even bytes: the input is a board cache file
// (damaged, edited, or from another version). Odd bytes: every GET of a board fetch is answered
// from the input (status, rate-limit headers, continuation token, body), for Jira Cloud, Jira
// Data Center and Azure DevOps. Whatever happens: no crash, the board still encodes as JSON and
// CCTray, what the agent itself produced always passes its own cache check, no tile is null,
// no exception escapes, and no secret appears unless the server sent it. Seeds:
// tests/fuzz/make_seeds.py.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "firmware/board/board_fetch.hpp"
#include "firmware/board/board_source.hpp"
#include "tests/fuzz/fuzz_reader.hpp"
#include "tests/support/fakes.hpp"

using namespace tracklight;

namespace {

const char* kHeaders[] = {"Retry-After", "X-RateLimit-Delay", "X-RateLimit-Remaining", "X-RateLimit-Limit",
                          "x-ms-continuationtoken", "X-RateLimit-NearLimit"};

// The answers the fetch decides on (the Data Center 404, Cloud's 410, JQL 400, rate limits).
const int kStatuses[] = {203, 302, 400, 401, 403, 404, 410, 429, 500, 503};

void check_outputs(const std::vector<firmware::BoardSource>& sources) {
  firmware::board_json(sources);
  firmware::cctray_xml(sources);
}

int one_input(const uint8_t* data, size_t size);

}  // namespace

// An invariant of its own: hostile answers or a hostile cache never surface as an exception.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    return one_input(data, size);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "an exception escaped the board code: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "an exception escaped the board code\n");
  }
  std::abort();
}

namespace {

int one_input(const uint8_t* data, size_t size) {
  test::FuzzReader in{data, size};
  const uint8_t mode = in.byte();
  if (mode % 2 == 0) {
    std::vector<firmware::BoardSource> cached;
    std::vector<std::string> dropped;
    std::string why;
    if (firmware::decode_board_cache(in.take(in.n), cached, why, &dropped)) {
      check_outputs(cached);
      // What survives decoding is what the agent writes: it must decode again, unchanged.
      std::vector<firmware::BoardSource> again;
      dropped.clear();
      if (!firmware::decode_board_cache(firmware::encode_board_cache(cached), again, why, &dropped) || !dropped.empty())
        __builtin_trap();
    }
    return 0;
  }
  test::FakeClock clock;
  test::FakeHttps https;
  std::string served;
  https.respond = [&](const std::string&) {
    platform::HttpsResponse r;
    const uint8_t s = in.byte();
    r.status = s < 200 ? 200 : kStatuses[s % 10];
    r.headers.emplace_back("Content-Type", in.byte() % 8 ? "application/json" : "text/html");
    for (int h = in.byte() % 3; h > 0; --h) {
      const char* name = kHeaders[in.byte() % 6];
      r.headers.emplace_back(name, in.take(in.byte() % 32));
    }
    r.body = in.take(in.length());
    for (const auto& h : r.headers) served += h.second + "\n";
    served += r.body + "\n";
    return r;
  };
  firmware::Connection c;
  c.id = "x";
  c.name = "x";
  c.board.enabled = true;
  c.board.max_issues = 1 + mode % 50;
  std::string flavour;
  if (mode & 2) {
    c.provider = "jira";
    c.server_url = "https://jira.example";
    c.auth = "api-key";
    c.username = "mia@example.com";
    c.api_key = "CANARY-SECRET";
    flavour = mode & 4 ? "dc" : "";
  } else {
    c.provider = "azure-devops";
    c.server_url = "https://dev.azure.com/org";
    c.auth = "pat";
    c.token = "CANARY-SECRET";
    c.project = "Fiber";
    if (mode & 4) c.board.pipelines = {"CI", "Nightly"};
    if (mode & 16) c.board.pipelines = {"CI", "CI"};  // refused by validation, never a null tile
    if (mode & 8) c.board.branch = "main";
  }
  firmware::TrackerEnv env{clock, https, 20000};
  firmware::BoardFetch f = firmware::fetch_board(c, env, flavour);
  if (f.ok != f.error.empty()) __builtin_trap();
  // fetch_board turns an exception into this error: for the fuzzer that is an escape.
  if (f.error.find("stopped inside the agent") != std::string::npos) {
    std::fprintf(stderr, "an exception escaped the board fetch: %s\n", f.error.c_str());
    std::abort();
  }
  if (f.requests > 2 * firmware::kBoardMaxPages) __builtin_trap();  // bounded, whatever the server says
  if (f.wait_s < 0 || f.wait_s > 3600) __builtin_trap();
  if (f.ok && f.data.contains("pipelines"))
    for (const auto& tile : f.data["pipelines"])
      if (!tile.is_object()) __builtin_trap();
  firmware::BoardSource src;
  src.id = c.id;
  src.provider = c.provider;
  src.fetched_at_s = 1795000000;
  src.data = f.data;
  const std::string cache = firmware::encode_board_cache({src});
  std::vector<firmware::BoardSource> back;
  std::string why;
  if (f.ok && (!firmware::decode_board_cache(cache, back, why) || back.size() != 1)) __builtin_trap();
  const std::string out = firmware::board_json({src}) + firmware::cctray_xml({src}) + f.error;
  if (out.find("CANARY-SECRET") != std::string::npos && served.find("CANARY-SECRET") == std::string::npos)
    __builtin_trap();
  return 0;
}

}  // namespace
