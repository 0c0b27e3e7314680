#include "firmware/board/board_source.hpp"

#include <optional>

#include "firmware/web/connection_json.hpp"
#include "firmware/tracker/json_read.hpp"

namespace tracklight::firmware {
namespace {

using nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json source_json(const BoardSource& s) {
  json j = {{"id", s.id}, {"name", s.name}, {"provider", s.provider},
            {"fetched_at", s.fetched_at_s ? json(iso_time(s.fetched_at_s)) : json()}, {"stale", s.stale}};
  if (s.stale) j["reason"] = s.reason;
  if (s.data.is_object())
    for (auto it = s.data.begin(); it != s.data.end(); ++it) j[it.key()] = it.value();
  return j;
}

const char* const kTileKeys[] = {"name", "state", "last_result", "build_number", "branch", "requested_by",
                                 "queued_at", "finished_at", "url"};
const char* const kIssueKeys[] = {"key", "summary", "status", "category", "assignee", "priority", "url"};
const char* const kCategories[] = {"new", "indeterminate", "done", "undefined"};

// The listed members, each a string or null (absent: null), as a new object.
template <size_t N>
json strings_of(const JsonNode& o, const char* const (&keys)[N]) {
  json out = json::object();
  for (const char* k : keys) {
    const JsonNode v = o.member(k);
    out[k] = v.present() ? json(v.as_string()) : json();
  }
  return out;
}

// The shapes board_json publishes, rebuilt from what the file holds, so that nothing else it
// holds reaches the board. `why` says what required part is not there.
json data_of(const JsonNode& d, std::string& why) {
  if (d.member("pipelines").present()) {
    const JsonNode tiles = d.array("pipelines");
    json list = json::array();
    for (size_t i = 0; i < tiles.size(); ++i) list.push_back(strings_of(tiles.item(i).as_object(), kTileKeys));
    return {{"pipelines", std::move(list)}};
  }
  const JsonNode j = d.object("jira");
  const std::optional<int64_t> total = j.int64("total");
  const std::optional<bool> complete = j.boolean("complete");
  const JsonNode counts = j.object("counts"), issues = j.array("issues");
  if (!j.present()) {
    why = "field " + d.path() + " has neither pipelines nor jira";
    return json();
  }
  if (!total || !complete || !counts.present() || !issues.present()) {
    why = "field " + j.path() + " lacks total, complete, counts or issues";
    return json();
  }
  json c = json::object();
  for (const char* k : kCategories) c[k] = counts.int64(k).value_or(0);
  json list = json::array();
  for (size_t i = 0; i < issues.size(); ++i) list.push_back(strings_of(issues.item(i).as_object(), kIssueKeys));
  return {{"jira",
           {{"jql", j.string("jql")}, {"total", *total}, {"complete", *complete}, {"counts", std::move(c)}, {"issues", std::move(list)}}}};
}

// One cache entry; "" or why it is damaged.
std::string entry_of(const JsonDoc& doc, const JsonNode& item, BoardSource& s) {
  const size_t errors_before = doc.error_count();
  const JsonNode e = item.as_object();
  s.id = e.string("id");
  s.provider = e.string("provider");
  s.server_url = e.string("server_url");
  const std::optional<int64_t> at = e.int64("fetched_at");
  std::string why;
  s.data = data_of(e.object("data"), why);
  if (doc.error_count() > errors_before) return doc.error(errors_before);
  if (s.id.empty() || !at) return "it has no id or no fetched_at";
  if (!why.empty()) return why;
  s.fetched_at_s = *at;
  return "";
}

std::string xml_attr(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (c < 0x20) out += ' ';  // control characters are not allowed in XML 1.0
        else out += static_cast<char>(c);
    }
  }
  return out;
}

const char* cctray_status(const std::string& result) {
  if (result == "succeeded") return "Success";
  if (result == "failed" || result == "partially-succeeded") return "Failure";
  if (result == "canceled") return "Exception";
  return "Unknown";
}

std::string text_of(const json& tile, const char* key) {
  auto it = tile.find(key);
  const auto* s = it != tile.end() ? it->get_ptr<const json::string_t*>() : nullptr;
  return s ? *s : "";
}

}  // namespace

std::string board_json(const std::vector<BoardSource>& sources) {
  json list = json::array();
  for (const auto& s : sources) list.push_back(source_json(s));
  return dump(json{{"sources", std::move(list)}});
}

std::string cctray_xml(const std::vector<BoardSource>& sources) {
  std::string x = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Projects>\n";
  for (const auto& s : sources) {
    if (!s.data.is_object() || !s.data.contains("pipelines")) continue;
    for (const json& t : s.data["pipelines"]) {
      const std::string state = text_of(t, "state");
      const bool building = state == "in-progress" || state == "queued" || state == "canceling";
      const std::string last = text_of(t, "last_result");
      x += "  <Project name=\"" + xml_attr(s.name + " / " + text_of(t, "name")) + "\" activity=\"" +
           (building ? "Building" : "Sleeping") + "\" lastBuildStatus=\"" + cctray_status(last) +
           "\" lastBuildLabel=\"" + xml_attr(text_of(t, "build_number")) + "\" lastBuildTime=\"" +
           xml_attr(text_of(t, "finished_at").empty() ? text_of(t, "queued_at") : text_of(t, "finished_at")) +
           "\" webUrl=\"" + xml_attr(text_of(t, "url")) + "\"/>\n";
    }
  }
  return x + "</Projects>\n";
}

std::string encode_board_cache(const std::vector<BoardSource>& sources) {
  json list = json::array();
  for (const auto& s : sources) {
    if (!s.data.is_object() || !s.fetched_at_s) continue;
    list.push_back({{"id", s.id}, {"provider", s.provider}, {"server_url", s.server_url},
                    {"fetched_at", s.fetched_at_s}, {"data", s.data}});
  }
  return dump(json{{"version", 1}, {"sources", std::move(list)}}) + "\n";
}

bool decode_board_cache(const std::string& text, std::vector<BoardSource>& out, std::string& why,
                        std::vector<std::string>* dropped) {
  JsonDoc doc(text);
  const JsonNode root = doc.root();
  const JsonNode sources = root.array("sources");
  if (root.int64("version") != 1 || !sources.present()) {
    why = "not a version 1 board cache";
    return false;
  }
  for (size_t i = 0; i < sources.size(); ++i) {
    BoardSource s;
    const std::string damage = entry_of(doc, sources.item(i), s);
    if (damage.empty()) out.push_back(std::move(s));
    else if (dropped) dropped->push_back("entry " + std::to_string(i + 1) + (s.id.empty() ? "" : " (connection " + s.id + ")") + ": " + damage);
  }
  return true;
}

}  // namespace tracklight::firmware
