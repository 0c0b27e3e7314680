#include "firmware/store/transfer.hpp"

#include <algorithm>

#include "firmware/model/connection_rules.hpp"
#include "firmware/model/text.hpp"
#include "firmware/model/url.hpp"

namespace tracklight::firmware {
namespace {

const HeaderEntry* find_header(const Connection& c, const std::string& name) {
  for (const auto& h : c.headers)
    if (iequals(h.name, name)) return &h;
  return nullptr;
}

// Fills the secrets the file did not carry from the stored connection, where they may go.
void merge_secrets(Connection& c, const std::set<std::string>& given, const Connection* stored,
                   std::vector<SecretToEnter>& enter) {
  const bool server_same = stored && server_secrets_may_follow(c, *stored);
  const bool proxy_same = stored && !c.proxy_url.empty() && same_origin(c.proxy_url, stored->proxy_url);
  for (size_t i = 0; i < kSecretFieldCount; ++i) {
    const auto& f = kSecretFields[i];
    if (given.count(f.name) || !stored || (stored->*f.member).empty()) continue;
    const bool proxy = f.member == &Connection::proxy_password;
    if (proxy && c.proxy_url.empty()) continue;  // no proxy any more: its password goes
    if (f.member == &Connection::refresh_token && !keeps_refresh_token(c)) continue;  // another method now
    if (proxy ? proxy_same : server_same) c.*f.member = stored->*f.member;
    else enter.push_back({f.name, true});
  }
  // This device's own sign-in stays, with the account it was made with.
  if (!c.refresh_token.empty() && stored) c.signed_in_as = stored->signed_in_as, c.cloud_id = stored->cloud_id;
  for (auto it = c.headers.begin(); it != c.headers.end();) {
    if (given.count("header/" + lower(it->name))) {
      ++it;
      continue;
    }
    const HeaderEntry* old = stored ? find_header(*stored, it->name) : nullptr;
    if (old && server_same) {
      it->value = old->value;
      ++it;
      continue;
    }
    enter.push_back({"header " + it->name, old != nullptr});
    it = c.headers.erase(it);  // a header without its value would be sent empty
  }
  const std::string need = required_secret(c.provider, c.auth);
  const bool listed = std::any_of(enter.begin(), enter.end(), [&](const SecretToEnter& e) { return e.field == need; });
  if (lacks_sign_in_secret(c) && !listed) enter.push_back({need, false});
}

std::vector<std::string> changed_fields(const Connection& a, const Connection& b) {
  std::vector<std::string> out;
  for (size_t i = 0; i < kStringFieldCount; ++i)
    if (a.*kStringFields[i].member != b.*kStringFields[i].member) out.push_back(kStringFields[i].name);
  for (size_t i = 0; i < kBoolFieldCount; ++i)
    if (a.*kBoolFields[i].member != b.*kBoolFields[i].member) out.push_back(kBoolFields[i].name);
  for (size_t i = 0; i < kIntFieldCount; ++i)
    if (a.*kIntFields[i].member != b.*kIntFields[i].member) out.push_back(kIntFields[i].name);
  for (size_t i = 0; i < kSecretFieldCount; ++i)
    if (a.*kSecretFields[i].member != b.*kSecretFields[i].member) out.push_back(kSecretFields[i].name);
  bool headers = a.headers.size() != b.headers.size();
  for (size_t i = 0; !headers && i < a.headers.size(); ++i)
    headers = a.headers[i].name != b.headers[i].name || a.headers[i].value != b.headers[i].value;
  if (headers) out.push_back("headers");
  const BoardSettings &x = a.board, &y = b.board;
  if (x.enabled != y.enabled) out.push_back("board.enabled");
  if (x.interval_s != y.interval_s) out.push_back("board.interval_s");
  if (x.max_issues != y.max_issues) out.push_back("board.max_issues");
  if (x.branch != y.branch) out.push_back("board.branch");
  if (x.jql != y.jql) out.push_back("board.jql");
  if (x.pipelines != y.pipelines) out.push_back("board.pipeline");
  if (a.unknown != b.unknown) out.push_back("other keys");
  return out;
}

void plan_agent(const AgentSettings& current, const AgentSettings& file, bool replace, ImportPlan& plan) {
  AgentSettings& next = plan.next.agent;
  next = current;  // the admin password and board key stay whatever happens
  if (replace) {
    next.allowed_hosts = file.allowed_hosts;
    next.unknown = file.unknown;
  } else {
    for (const auto& h : file.allowed_hosts)
      if (std::none_of(next.allowed_hosts.begin(), next.allowed_hosts.end(), [&](const std::string& x) { return iequals(x, h); }))
        next.allowed_hosts.push_back(h);
    for (const auto& u : file.unknown)
      if (std::find(next.unknown.begin(), next.unknown.end(), u) == next.unknown.end()) next.unknown.push_back(u);
  }
  if (next.allowed_hosts != current.allowed_hosts) plan.agent_fields.push_back("allowed_host");
  if (next.unknown != current.unknown) plan.agent_fields.push_back("other keys");
}

}  // namespace

bool ImportPlan::changes_anything() const {
  if (!agent_fields.empty()) return true;
  return std::any_of(connections.begin(), connections.end(), [](const ConnectionChange& c) { return c.kind != "unchanged"; });
}

ImportPlan plan_import(const Config& current, const DecodedTransfer& file, bool replace) {
  ImportPlan plan;
  plan_agent(current.agent, file.config.agent, replace, plan);
  if (!replace) plan.next.connections = current.connections;
  for (size_t i = 0; i < file.config.connections.size(); ++i) {
    Connection c = file.config.connections[i];
    const Connection* stored = current.find(c.id);
    ConnectionChange change{c.id, stored ? "changed" : "added", {}, {}};
    merge_secrets(c, file.secrets_given[i], stored, change.enter);
    if (stored) change.fields = changed_fields(c, *stored);
    if (stored && change.fields.empty()) {
      change.kind = "unchanged";
      c = *stored;  // keeps its status: nothing about it changed
    } else {
      c.saved_status = "not-verified";  // never authorized by an import: the monitor checks it
      c.imported = true;
    }
    Connection* slot = plan.next.find(c.id);
    if (slot) {
      *slot = c;
    } else if (plan.next.connections.size() >= kMaxConnections) {
      plan.problems.push_back({file.section_lines[i], "[connection " + c.id + "] would make more than 32 connections; "
                                                      "remove some first, or import with --replace"});
      continue;
    } else {
      plan.next.connections.push_back(c);
    }
    plan.connections.push_back(std::move(change));
  }
  if (replace) {
    for (const auto& c : current.connections)
      if (!file.config.find(c.id)) plan.connections.push_back({c.id, "removed", {}, {}});
  }
  return plan;
}

std::vector<std::string> describe_plan(const ImportPlan& plan) {
  std::vector<std::string> lines;
  for (const auto& c : plan.connections) {
    std::string line = c.kind + " " + c.id;
    for (size_t i = 0; i < c.fields.size(); ++i) line += (i == 0 ? ": " : ", ") + c.fields[i];
    lines.push_back(line);
    for (const auto& e : c.enter) {
      if (e.field == "refresh_token")
        lines.push_back("  " + c.id + ": sign in on this device's page (Sign in in the connection's dialog): a sign-in is never copied");
      else
        lines.push_back("  " + c.id + ": enter the " + e.field + (e.server_changed ? " again" : "") + " on the page: " +
                        (e.server_changed ? "the server (scheme, host or port) or its CA certificate changed, so the stored one is not carried over"
                                          : "the file does not carry it"));
    }
  }
  if (!plan.agent_fields.empty()) {
    std::string line = "changed agent settings";
    for (size_t i = 0; i < plan.agent_fields.size(); ++i) line += (i == 0 ? ": " : ", ") + plan.agent_fields[i];
    lines.push_back(line);
  }
  return lines;
}

Result<Config> select_for_export(const Config& config, const std::vector<std::string>& ids) {
  Config out;
  out.agent = config.agent;
  for (const auto& id : ids)
    if (!config.find(id)) return Error{ErrorCode::NotFound, "", 0, "no connection with id " + id};
  for (const auto& c : config.connections)
    if (ids.empty() || std::find(ids.begin(), ids.end(), c.id) != ids.end()) out.connections.push_back(c);
  return out;
}

}  // namespace tracklight::firmware
