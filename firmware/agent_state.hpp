// What the running agent holds: the configuration snapshot and the login state. Handlers run
// on the HTTP worker threads and take `mu` for any access; slow work (password hashing, Tests,
// sealing and fsyncing the file) happens outside it, so every request's Host check and the
// kiosk never wait for an SD card.
#pragma once
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>
#include "firmware/board/board_poller.hpp"
#include "firmware/metrics/http_counts.hpp"
#include "firmware/metrics/upstream_counts.hpp"
#include "firmware/model/config.hpp"
#include "firmware/store/config_store.hpp"
#include "firmware/store/device_seal.hpp"
#include "firmware/monitor/monitor.hpp"
#include "firmware/access/sessions.hpp"
#include "firmware/signin/pending_signins.hpp"
#include "firmware/signin/signin.hpp"
#include "platform/clock.hpp"
#include "platform/entropy.hpp"
#include "platform/fs.hpp"
#include "platform/https_client.hpp"
#include "platform/log.hpp"

namespace tracklight::firmware {

struct AgentOptions {
  std::string state_dir = "state";
  std::vector<std::string> allowed_hosts;  // from the command line, besides the config's
  std::string host_name;                   // this machine's name: <name> and <name>.local are allowed
  unsigned password_iterations = 0;        // 0 = the default (kPasswordIterations)
  int64_t test_timeout_ms = 20000;         // a whole Test
  int https_port = 0;  // the page is also served over HTTPS there: Secure cookies, plain HTTP redirects
};

struct AgentState {
  AgentState(AgentOptions o, platform::Fs& f, platform::Clock& c, platform::Entropy& e, platform::Logger& l,
             platform::HttpsConnector& h)
      : opts(std::move(o)), fs(f), clock(c), entropy(e), log(l), https(h), store(f, e, l, opts.state_dir) {
    signin.fs = &f;
    signin.keep_refresh_token = [this](const Connection& conn, const std::string& used, const std::string& fresh) {
      return keep_refresh_token(conn, used, fresh);
    };
    signin.stored_refresh_token = [this](const Connection& conn) { return stored_refresh_token(conn); };
  }

  AgentOptions opts;
  platform::Fs& fs;
  platform::Clock& clock;
  platform::Entropy& entropy;
  platform::Logger& log;
  platform::HttpsConnector& https;
  ConfigStore store;
  // Access tokens from sign-ins, shared by Test, Connect, the monitor and the board.
  SigninContext signin;

  std::mutex mu;
  std::mutex commit_mu;        // one change of the configuration at a time; taken before `mu`
  Config config;
  std::string config_problem;  // shown on the page while the file on disk was not usable
  SessionTable sessions;
  PendingSignins pending;      // sign-ins started in a dialog and not yet used by Connect
  LoginThrottle throttle;
  std::string setup_code;      // while no admin password is set
  int64_t started_ms = 0;
  // This device's provisioning key (export --for, import): read or made on first use, not at
  // start (an X25519 scalar multiplication and the PSA code it runs on every boot for a feature
  // most boots never use). See provisioning_key() in web/api_transfer.cpp.
  std::mutex provisioning_mu;
  std::shared_ptr<const ProvisioningKey> provisioning;
  Monitor* monitor = nullptr;  // told about every change of the connections
  BoardPoller* board = nullptr;  // likewise
  // For GET /metrics; lock-free or with their own lock, so neither needs `mu`.
  UpstreamStats upstream;  // the monitor's and the board's requests to the trackers
  HttpCounts http_counts;  // the requests the router answered

  // Changes the configuration: `edit` runs on a copy of the current one (re-read first when the
  // file changed on disk, e.g. by `tracklight passwd`) and may refuse with its own Error
  // (Conflict: the change no longer fits). The copy is then saved and made current; on any
  // failure nothing changes. Commits and reloads are serialised by `commit_mu`, so an edit
  // always sees every earlier change and two commits cannot lose each other's. The caller must
  // not hold `mu`.
  Status commit(const std::function<Status(Config&)>& edit);
  // Makes a configuration read from the file current (start-up reload, SIGHUP, a change on
  // disk): a changed admin password ends the sessions opened with the old one. Caller holds `mu`.
  void adopt(Config loaded);
  // Saves a rotated refresh token in the stored connection (SigninContext::keep_refresh_token).
  Result<bool> keep_refresh_token(const Connection& c, const std::string& used, const std::string& fresh);
  // The refresh token stored for `c` (SigninContext::stored_refresh_token), after adopting the
  // file when it changed on disk.
  std::string stored_refresh_token(const Connection& c);
  // Concurrent password hashes (login, setup): PBKDF2 takes a worker for a while, so a few
  // clients cannot occupy every worker with guesses. Caller holds `mu`.
  int hashing = 0;
};

}  // namespace tracklight::firmware
