// Process-level services: signals, umask, host name, reading a password from the terminal.
#pragma once
#include <functional>
#include <string>
#include <vector>
#include "platform/result.hpp"

namespace tracklight::platform {

// Blocks SIGTERM, SIGINT and SIGHUP in every thread (call before starting any) and returns a
// waiter that runs on_stop for TERM/INT and on_reload for HUP, until on_stop has run.
struct SignalHandlers {
  std::function<void()> on_stop;
  std::function<void()> on_reload;
};
void block_signals();
void wait_for_signals(const SignalHandlers& handlers);  // blocks the calling thread
void request_stop();                                      // makes wait_for_signals return

void set_private_umask();  // files this process creates are for its user only
std::string host_name();   // "" when unknown
// This machine's IPv4 and IPv6 addresses, loopback included. Left out: link-local IPv6 (a browser
// cannot use one without its zone) and IPv6 addresses that rotate or are not usable (temporary,
// deprecated, tentative). Sorted, each once.
std::vector<std::string> local_addresses();
// Reads one line from the terminal without echo (or from stdin when it is not a terminal).
Result<std::string> read_secret_line(const std::string& prompt);

}  // namespace tracklight::platform
