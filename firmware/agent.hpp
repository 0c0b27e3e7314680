// The agent: wires the state, the store and the HTTP API together. main() gives it the
// platform implementations; tests give it in-memory ones.
#pragma once
#include <memory>
#include "firmware/agent_state.hpp"
#include "platform/http_server.hpp"

namespace tracklight::firmware {

class Agent {
 public:
  Agent(AgentOptions opts, platform::Fs& fs, platform::Clock& clock, platform::Entropy& entropy,
        platform::Logger& log, platform::HttpsConnector& https);
  // Opens the state directory, loads the config, and creates a setup code on first run.
  Status start();
  void reload();  // SIGHUP
  platform::HttpResponse handle(const platform::HttpRequest& req);
  AgentState& state() { return state_; }
  Monitor& monitor() { return monitor_; }
  BoardPoller& board() { return board_; }

 private:
  AgentState state_;
  Monitor monitor_;
  BoardPoller board_;
};

}  // namespace tracklight::firmware
