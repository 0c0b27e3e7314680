// Provisioning through the page: this device's public key, export and import (the same as
// `tracklight device-key --public`, `export` and `import`, SPEC section 7).
#include "firmware/store/transfer.hpp"
#include "firmware/web/connection_json.hpp"
#include "firmware/web/router.hpp"

namespace tracklight::firmware {
namespace {

// "1"/"true" and "0"/"false"; a missing flag is false. False return: not a flag.
bool read_flag(const HttpRequest& req, const char* name, bool& out) {
  const std::string* v = req.query_param(name);
  out = v && (*v == "1" || *v == "true");
  return !v || *v == "1" || *v == "true" || *v == "0" || *v == "false";
}

// The file's warnings (a key this version does not know, a status left out) end the lines shown
// to the person, as the command line prints them.
nlohmann::json plan_json(const ImportPlan& plan, bool dry_run, const std::vector<std::string>& warnings) {
  nlohmann::json changes = nlohmann::json::array();
  for (const auto& c : plan.connections) {
    nlohmann::json enter = nlohmann::json::array();
    for (const auto& e : c.enter) enter.push_back({{"field", e.field}, {"server_changed", e.server_changed}});
    changes.push_back({{"id", c.id}, {"change", c.kind}, {"fields", c.fields}, {"enter", enter}});
  }
  std::vector<std::string> lines = describe_plan(plan);
  for (const auto& w : warnings) lines.push_back("file " + w);
  return {{"dry_run", dry_run}, {"changes", changes}, {"agent_fields", plan.agent_fields},
          {"changed", plan.changes_anything()}, {"lines", lines}, {"warnings", warnings}};
}

HttpResponse invalid_file(const std::vector<LineProblem>& problems) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& p : problems) list.push_back({{"line", p.line}, {"message", p.message}});
  const std::string msg = "the file has " + std::to_string(problems.size()) + " problem" +
                          (problems.size() == 1 ? "" : "s") + "; nothing was changed";
  return json_response(422, {{"error", {{"code", "import_invalid"}, {"message", msg}, {"problems", list}}}});
}

HttpResponse no_provisioning_key() {
  return error_response(503, "no_device_key", "this device has no provisioning key (see the agent's log)");
}

// Read or made once, on the first request that needs it; a failure is logged and tried again
// on the next request.
std::shared_ptr<const ProvisioningKey> provisioning_key(AgentState& s) {
  std::lock_guard<std::mutex> lock(s.provisioning_mu);
  if (s.provisioning) return s.provisioning;
  auto key = load_or_create_provisioning_key(s.fs, s.entropy, s.opts.state_dir, ".tmp");
  if (!key) {
    s.log.error("config", "no provisioning key, so nothing can be imported with secrets: " + key.error().message());
    return nullptr;
  }
  s.provisioning = std::make_shared<const ProvisioningKey>(*key);
  auto opened = s.fs.make_private_file(s.opts.state_dir + "/" + kProvisioningKeyFile);
  if (opened && *opened) s.log.warn("config", std::string(kProvisioningKeyFile) + " was readable by other users; it is now private (0600)");
  return s.provisioning;
}

}  // namespace

HttpResponse handle_device_key(AgentState& s, const HttpRequest&, const std::string&) {
  auto key = provisioning_key(s);
  if (!key) return no_provisioning_key();
  const DevicePublicKey& k = key->public_key();
  return json_response(200, {{"public_key", k.text()}, {"fingerprint", k.fingerprint()}});
}

HttpResponse handle_export(AgentState& s, const HttpRequest& req, const std::string&) {
  bool with_secrets = false;
  if (!read_flag(req, "with_secrets", with_secrets))
    return error_response(400, "bad_field", "with_secrets must be 1 or 0", "with_secrets");
  const std::string* for_key = req.query_param("for");
  if (with_secrets != (for_key != nullptr))
    return error_response(400, "bad_field",
                          with_secrets ? "with_secrets needs for=<the receiving device's key>: secrets leave only sealed for it"
                                       : "for goes with with_secrets=1",
                          "for");
  DevicePublicKey to;
  if (with_secrets) {
    auto parsed = parse_device_public_key(*for_key);
    if (!parsed) return error_response(400, "bad_field", "for: " + parsed.error().detail, "for");
    to = *parsed;
  }
  std::vector<std::string> ids;
  for (const auto& q : req.query) {
    if (q.first == "id") ids.push_back(q.second);
    else if (q.first != "with_secrets" && q.first != "for")
      return error_response(400, "unknown_field", q.first + " is not a known parameter", q.first);
  }
  Config chosen;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    auto picked = select_for_export(s.config, ids);
    if (!picked) return error_response(404, "not_found", picked.error().detail, "id");
    chosen = std::move(*picked);
  }
  auto text = encode_transfer(chosen, with_secrets ? &to : nullptr, s.entropy);
  if (!text) return error_response(500, "export_failed", "could not make the export: " + text.error().message());
  s.log.info("config", "exported " + std::to_string(chosen.connections.size()) + " connection(s), " +
                           (with_secrets ? "secrets sealed for device key " + to.fingerprint() : std::string("without secrets")));
  HttpResponse r;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(*text);
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"tracklight-export.conf\"");
  return r;
}

HttpResponse handle_import(AgentState& s, const HttpRequest& req, const std::string&) {
  bool dry_run = false, replace = false;
  if (!read_flag(req, "dry_run", dry_run)) return error_response(400, "bad_field", "dry_run must be 1 or 0", "dry_run");
  if (!read_flag(req, "replace", replace)) return error_response(400, "bad_field", "replace must be 1 or 0", "replace");
  if (req.body.empty())
    return error_response(400, "body_required", "send {\"text\": \"...\"} with the file that tracklight export wrote");
  nlohmann::json j;
  const std::string why = parse_json_body(req.body, j);
  if (!why.empty()) return error_response(400, "bad_json", why);
  for (const auto& [key, v] : j.items())
    if (key != "text") return error_response(400, "unknown_field", key + " is not a known field", key);
  if (!j.contains("text") || !j["text"].is_string())
    return error_response(400, "bad_field", "text must be the file's text, as a string", "text");
  const std::string& text = j["text"].get_ref<const std::string&>();
  // The key is read (or made) only for a file that carries sealed secrets: a dry run of a file
  // without them leaves the state directory as it was.
  std::shared_ptr<const ProvisioningKey> key;
  if (text.find("sealed-for:") != std::string::npos) key = provisioning_key(s);
  DecodedTransfer file = decode_transfer(text, key.get());
  if (!file.problems.empty()) return invalid_file(file.problems);
  ImportPlan plan;
  if (dry_run) {
    std::lock_guard<std::mutex> lock(s.mu);
    plan = plan_import(s.config, file, replace);
  } else {
    bool refused = false;
    Status st = s.commit([&](Config& next) -> Status {
      plan = plan_import(next, file, replace);  // on the configuration as it is now
      refused = !plan.problems.empty() || !plan.changes_anything();
      if (refused) return Error{ErrorCode::Conflict, "", 0, "nothing to save"};
      next = plan.next;
      return ok_status();
    });
    if (!st && !refused) return commit_failed(st);
  }
  if (!plan.problems.empty()) return invalid_file(plan.problems);
  if (!dry_run && plan.changes_anything()) {
    std::string summary;
    for (const auto& c : plan.connections)
      if (c.kind != "unchanged") summary += (summary.empty() ? "" : ", ") + c.kind + " " + c.id;
    s.log.info("config", "imported: " + (summary.empty() ? std::string("agent settings") : summary));
  }
  return json_response(200, plan_json(plan, dry_run, file.warnings));
}

}  // namespace tracklight::firmware
