// Starts tests/fakes/hostile_tls.py: a tracker (TLS, test PKI) or a web proxy (plain TCP) whose
// answers never end or never fit. Also reads this process's resident memory.
#pragma once
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "tests/integration/tracker_fixture.hpp"

namespace tracklight::test {

class HostileServer {
 public:
  // mode: see hostile_tls.py; plain: no TLS (a proxy).
  explicit HostileServer(const std::string& mode, bool plain = false) {
    int out[2];
    if (pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      const std::string script = std::string(TRACKLIGHT_SOURCE_DIR) + "/tests/fakes/hostile_tls.py";
      const std::string cert = pki_dir() + "/good.pem", key = pki_dir() + "/good.key";
      if (plain)
        execlp("python3", "python3", script.c_str(), "--mode", mode.c_str(), "--plain", (char*)nullptr);
      else
        execlp("python3", "python3", script.c_str(), "--mode", mode.c_str(), "--cert", cert.c_str(), "--key",
               key.c_str(), (char*)nullptr);
      _exit(127);
    }
    close(out[1]);
    FILE* f = fdopen(out[0], "r");
    char line[64] = "";
    if (f && fgets(line, sizeof line, f)) port_ = std::atoi(line + 10);  // "listening PORT"
    if (f) fclose(f);
  }
  ~HostileServer() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

// VmRSS of this process in KiB (0 when /proc is not there).
inline long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

}  // namespace tracklight::test
