// What the board shows for one connection, and the three ways it leaves the agent: the
// /api/v1/board JSON, the CCTray feed (/cc.xml) and the on-disk cache that survives a reboot.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tracklight::firmware {

struct BoardSource {
  std::string id, name, provider, server_url;
  nlohmann::json data;      // {"pipelines": [...]} or {"jira": {...}}; null before the first fetch
  int64_t fetched_at_s = 0; // wall clock of the last good fetch; 0 = never
  bool stale = true;
  std::string reason;       // why it is stale, for the person at the wall
};

// {"sources":[{"id","name","provider","fetched_at","stale","reason"?, "pipelines"|"jira"}]}.
// Nothing in it changes between two calls unless the board changed, so its hash is an ETag.
std::string board_json(const std::vector<BoardSource>& sources);

// CCTray (cctray.xml as CCMenu, Nevergreen and build lights read it): one Project per pipeline.
std::string cctray_xml(const std::vector<BoardSource>& sources);

// The cache file: the last good data per source. Decoding keeps only the shapes board_json
// writes (the file may be damaged or edited): a damaged entry is left out and named in
// `dropped` ("entry 2 (connection ado): field data.pipelines[1] is null, expected an object"),
// the others are kept. False, with `why`, when the file as a whole is not a board cache.
std::string encode_board_cache(const std::vector<BoardSource>& sources);
bool decode_board_cache(const std::string& text, std::vector<BoardSource>& out, std::string& why,
                        std::vector<std::string>* dropped = nullptr);

}  // namespace tracklight::firmware
