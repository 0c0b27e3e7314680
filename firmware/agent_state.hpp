// What the running agent holds: the configuration snapshot and the login state. Handlers run
// on the HTTP worker threads and take `mu` for any access; slow work (password hashing, file
// writes excepted) happens outside it.
#pragma once
#include <memory>
#include <mutex>
#include <string>
#include <vector>
#include "firmware/board/board_poller.hpp"
#include "firmware/config.hpp"
#include "firmware/config_store.hpp"
#include "firmware/monitor.hpp"
#include "firmware/sessions.hpp"
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
};

struct AgentState {
  AgentState(AgentOptions o, platform::Fs& f, platform::Clock& c, platform::Entropy& e, platform::Logger& l,
             platform::HttpsConnector& h)
      : opts(std::move(o)), fs(f), clock(c), entropy(e), log(l), https(h), store(f, e, l, opts.state_dir) {}

  AgentOptions opts;
  platform::Fs& fs;
  platform::Clock& clock;
  platform::Entropy& entropy;
  platform::Logger& log;
  platform::HttpsConnector& https;
  ConfigStore store;

  std::mutex mu;
  Config config;
  std::string config_problem;  // shown on the page while the file on disk was not usable
  SessionTable sessions;
  LoginThrottle throttle;
  std::string setup_code;      // while no admin password is set
  int64_t started_ms = 0;
  Monitor* monitor = nullptr;  // told about every change of the connections
  BoardPoller* board = nullptr;  // likewise

  // Saves `next` and makes it current; on failure nothing changes. Caller holds `mu`.
  Status commit(Config next);
};

}  // namespace tracklight::firmware
