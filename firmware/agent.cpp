#include "firmware/agent.hpp"

#include "firmware/web/router.hpp"

namespace tracklight::firmware {

Status AgentState::commit(const std::function<Status(Config&)>& edit) {
  std::lock_guard<std::mutex> writer(commit_mu);
  Config next;
  if (store.changed_on_disk()) {
    // `tracklight passwd` or an editor wrote the file: saving our copy would silently undo that.
    auto cfg = store.reload();
    std::lock_guard<std::mutex> lock(mu);
    if (cfg) {
      log.warn("config", store.path() + " was changed outside the agent; reloaded it before saving");
      adopt(std::move(*cfg));
    } else {
      // Removed or broken behind our back: as at start-up, saving from the page replaces it
      // (a broken file was copied aside by the store first).
      log.warn("config", store.path() + " was changed outside the agent and cannot be read (" + cfg.error().message() +
                             "); saving the agent's settings over it");
    }
    next = config;
  } else {
    std::lock_guard<std::mutex> lock(mu);
    next = config;
  }
  Status st = edit(next);
  if (!st) return st;
  st = store.save(next);  // seals, fsyncs twice and renames: the slow part, outside `mu`
  if (!st) {
    log.error("config", "save failed: " + st.error().message());
    return st;
  }
  std::lock_guard<std::mutex> lock(mu);
  config = std::move(next);
  config_problem.clear();
  if (monitor) monitor->sync(config.connections);
  if (board) board->sync(config.connections);
  upstream.retain(config.connections);
  return ok_status();
}

Result<bool> AgentState::keep_refresh_token(const Connection& c, const std::string& used, const std::string& fresh) {
  if (c.id.empty()) return false;  // a Test of a connection not saved yet
  Status st = commit([&](Config& next) -> Status {
    Connection* stored = next.find(c.id);
    // Signed in anew, signed out or removed meanwhile: the stored sign-in is not this one.
    if (!stored || stored->signed_in_as != c.signed_in_as ||
        (stored->refresh_token != used && stored->refresh_token != c.refresh_token))
      return Error{ErrorCode::Conflict, "", 0, "not this sign-in"};
    stored->refresh_token = fresh;
    return ok_status();
  });
  if (!st && st.error().code == ErrorCode::Conflict) return false;
  if (!st) return st.error();
  return true;
}

std::string AgentState::stored_refresh_token(const Connection& c) {
  std::lock_guard<std::mutex> writer(commit_mu);
  const auto held = [&]() -> std::string {
    std::lock_guard<std::mutex> lock(mu);
    const Connection* stored = config.find(c.id);
    return stored && stored->signed_in_as == c.signed_in_as ? stored->refresh_token : "";
  };
  // Only the stored sign-in falls back on the file: a dialog's new sign-in that Entra refused
  // must fail as itself, not pass with the stored one.
  if (held() != c.refresh_token) return "";
  if (store.changed_on_disk()) {
    auto cfg = store.reload();
    if (cfg) {
      std::lock_guard<std::mutex> lock(mu);
      log.info("config", store.path() + " was changed outside the agent (a sign-in renewed elsewhere?); reloaded it");
      adopt(std::move(*cfg));
    }
  }
  return held();
}

void AgentState::adopt(Config loaded) {
  // A changed admin password (tracklight passwd) ends the sessions opened with the old one.
  if (loaded.agent.admin_password_hash != config.agent.admin_password_hash) sessions.clear();
  if (!loaded.agent.admin_password_hash.empty()) setup_code.clear();
  config = std::move(loaded);
  config_problem.clear();
  if (monitor) monitor->sync(config.connections);
  if (board) board->sync(config.connections);
  upstream.retain(config.connections);
}

Agent::Agent(AgentOptions opts, platform::Fs& fs, platform::Clock& clock, platform::Entropy& entropy,
             platform::Logger& log, platform::HttpsConnector& https)
    : state_(std::move(opts), fs, clock, entropy, log, https),
      monitor_(clock, https, log, state_.opts.test_timeout_ms, &state_.upstream),
      board_(clock, https, fs, log, state_.opts.state_dir + "/board-cache.json", state_.opts.test_timeout_ms,
             &state_.upstream) {
  state_.monitor = &monitor_;
  monitor_.signin = &state_.signin;
  board_.signin = &state_.signin;
  state_.board = &board_;
}

Status Agent::start() {
  auto& s = state_;
  s.started_ms = s.clock.monotonic_ms();
  Status st = s.store.open();
  if (!st) return st;
  for (Periodic* p : {static_cast<Periodic*>(&monitor_), static_cast<Periodic*>(&board_)}) {
    auto seed = s.entropy.bytes(8);
    if (!seed) return seed.error();
    uint64_t v = 0;
    for (unsigned char b : *seed) v = v << 8 | b;
    p->seed_jitter(v);
  }
  LoadedConfig loaded = s.store.load();
  std::lock_guard<std::mutex> lock(s.mu);
  s.config = std::move(loaded.config);
  s.config_problem = loaded.problem;
  s.log.info("config", "loaded " + std::to_string(s.config.connections.size()) + " connection(s) from " + s.store.path());
  monitor_.sync(s.config.connections, /*at_startup=*/true);
  board_.load_cache();
  board_.sync(s.config.connections);
  if (!s.config.agent.admin_password_hash.empty()) return ok_status();
  auto code = make_setup_code(s.entropy);
  if (!code) return code.error();
  s.setup_code = *code;
  const std::string code_path = s.opts.state_dir + "/setup-code";
  st = s.fs.write_file_atomic(code_path, s.setup_code + "\n", {});
  if (!st) s.log.warn("setup", "could not write " + code_path + ": " + st.error().message());
  s.log.info("setup", "first run: open the page and enter setup code " + s.setup_code + " (also in " + code_path + ")");
  return ok_status();
}

void Agent::reload() {
  auto& s = state_;
  std::lock_guard<std::mutex> writer(s.commit_mu);
  auto cfg = s.store.reload();
  std::lock_guard<std::mutex> lock(s.mu);
  if (!cfg) {
    s.log.error("config", "reload failed, keeping the current settings: " + cfg.error().message());
    return;
  }
  s.adopt(std::move(*cfg));
  s.log.info("config", "reloaded " + std::to_string(s.config.connections.size()) + " connection(s)");
}

platform::HttpResponse Agent::handle(const platform::HttpRequest& req) { return route_request(state_, req); }

}  // namespace tracklight::firmware
