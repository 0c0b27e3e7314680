#include "firmware/board/board_source.hpp"

#include "firmware/connection_json.hpp"

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

bool all_strings_or_null(const json& o, std::initializer_list<const char*> keys) {
  if (!o.is_object()) return false;
  for (const char* k : keys)
    if (!o.contains(k) || !(o[k].is_string() || o[k].is_null())) return false;
  return true;
}

// The shapes board_json publishes; anything else in a cache file is dropped.
bool valid_data(const json& d) {
  if (!d.is_object() || d.size() != 1) return false;
  if (d.contains("pipelines")) {
    if (!d["pipelines"].is_array()) return false;
    for (const json& t : d["pipelines"])
      if (!all_strings_or_null(t, {"name", "state", "last_result", "build_number", "branch", "requested_by", "queued_at",
                                   "finished_at", "url"}))
        return false;
    return true;
  }
  if (!d.contains("jira")) return false;
  const json& j = d["jira"];
  if (!j.is_object() || !j.contains("jql") || !j["jql"].is_string() || !j.contains("total") ||
      !j["total"].is_number_integer() || !j.contains("complete") || !j["complete"].is_boolean() ||
      !j.contains("counts") || !j["counts"].is_object() || !j.contains("issues") || !j["issues"].is_array())
    return false;
  for (auto it = j["counts"].begin(); it != j["counts"].end(); ++it)
    if (!it.value().is_number_integer()) return false;
  for (const json& i : j["issues"])
    if (!all_strings_or_null(i, {"key", "summary", "status", "category", "assignee", "priority", "url"})) return false;
  return true;
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
  return it != tile.end() && it->is_string() ? it->get<std::string>() : "";
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

bool decode_board_cache(const std::string& text, std::vector<BoardSource>& out, std::string& why) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("version") || j["version"] != 1 || !j.contains("sources") || !j["sources"].is_array()) {
    why = "not a version 1 board cache";
    return false;
  }
  for (const json& e : j["sources"]) {
    BoardSource s;
    if (!e.is_object() || !e.contains("id") || !e["id"].is_string() || !e.contains("fetched_at") ||
        !e["fetched_at"].is_number_integer() || !e.contains("data") || !valid_data(e["data"])) {
      why = "entry " + std::to_string(out.size() + 1) + " is damaged";
      return false;
    }
    s.id = e["id"].get<std::string>();
    s.provider = text_of(e, "provider");
    s.server_url = text_of(e, "server_url");
    s.fetched_at_s = e["fetched_at"].get<int64_t>();
    s.data = e["data"];
    out.push_back(std::move(s));
  }
  return true;
}

}  // namespace tracklight::firmware
