// Starts tests/fakes/fake_tracker.py (TLS from Python's ssl, i.e. OpenSSL) with a certificate
// from the test PKI (tools/gen_test_certs.sh) and a scenario the test can rewrite at any time.
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>

#include "tests/integration/agent_process.hpp"

namespace tracklight::test {

inline std::string pki_dir() {
  static const std::string dir = [] {
    std::string d = std::string(TRACKLIGHT_BUILD_DIR) + "/test-pki";
    std::string cmd = std::string(TRACKLIGHT_SOURCE_DIR) + "/tools/gen_test_certs.sh " + d;
    if (std::system(cmd.c_str()) != 0) return std::string();
    return d;
  }();
  return dir;
}
inline std::string test_ca_pem() { return read_text(pki_dir() + "/ca.pem"); }

class FakeTracker {
 public:
  FakeTracker(const std::string& dir, const nlohmann::json& scenario, const std::string& cert = "good",
              const std::vector<std::string>& tls = {})  // e.g. {"--tls-only", "1.3"}, {"--plain"}: see fake_tracker.py
      : scenario_path_(dir + "/scenario-" + cert + ".json"), log_path_(dir + "/requests-" + cert + ".jsonl") {
    set(scenario);
    std::ofstream(log_path_, std::ios::trunc).close();
    int out[2];
    if (pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      std::string script = std::string(TRACKLIGHT_SOURCE_DIR) + "/tests/fakes/fake_tracker.py";
      std::string c = pki_dir() + "/" + cert + ".pem", k = pki_dir() + "/" + cert + ".key";
      std::string err = dir + "/fake-" + cert + ".err";
      freopen(err.c_str(), "a", stderr);
      // Debian's interpreter, whose python3-cryptography tools/bootstrap installs (the sign-in
      // fakes sign and verify with it); a python3 earlier on PATH may lack it.
      std::vector<std::string> args = {"/usr/bin/python3", script, "--cert", c, "--key", k,
                                        "--scenario", scenario_path_, "--log", log_path_};
      args.insert(args.end(), tls.begin(), tls.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv("/usr/bin/python3", argv.data());
      _exit(127);
    }
    close(out[1]);
    FILE* f = fdopen(out[0], "r");
    char line[128] = "";
    if (f && fgets(line, sizeof line, f)) port_ = std::atoi(line + 10);
    if (f) fclose(f);
  }
  ~FakeTracker() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  void set(const nlohmann::json& scenario) {
    std::ofstream tmp(scenario_path_ + ".tmp", std::ios::trunc);
    tmp << scenario.dump();
    tmp.close();
    std::rename((scenario_path_ + ".tmp").c_str(), scenario_path_.c_str());
  }
  int port() const { return port_; }
  // Requests the fake received, and how many carried an Authorization header.
  std::vector<nlohmann::json> requests() const {
    std::vector<nlohmann::json> out;
    std::ifstream in(log_path_);
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) out.push_back(nlohmann::json::parse(line));
    return out;
  }
  size_t with_authorization() const {
    size_t n = 0;
    for (const auto& r : requests()) n += r["authorization"].get<bool>();
    return n;
  }

 private:
  std::string scenario_path_, log_path_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// A real forward proxy (Debian's tinyproxy) on 127.0.0.1 with Basic authentication.
class Tinyproxy {
 public:
  // tinyproxy cannot be told to pick a free port itself, so a port is chosen and, when another
  // process took it in between (tinyproxy then exits), chosen again.
  Tinyproxy(const std::string& dir, const std::string& user, const std::string& password) {
    for (int attempt = 0; attempt < 5 && !port_; ++attempt) start(dir, user, password);
  }
  ~Tinyproxy() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
 private:
  void start(const std::string& dir, const std::string& user, const std::string& password) {
    int probe = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(probe, reinterpret_cast<sockaddr*>(&a), &len);
    const int port = ntohs(a.sin_port);
    close(probe);
    const std::string conf = dir + "/tinyproxy.conf";
    std::ofstream f(conf, std::ios::trunc);
    f << "Port " << port << "\nListen 127.0.0.1\nTimeout 30\nAllow 127.0.0.1\nMaxClients 20\n"
      << "BasicAuth " << user << " " << password << "\n";
    if (geteuid() == 0) f << "User nobody\nGroup nogroup\n";  // tinyproxy will not run as root
    f.close();
    pid_ = fork();
    if (pid_ == 0) {
      std::string log = dir + "/tinyproxy.log";
      freopen(log.c_str(), "a", stderr);
      execlp("tinyproxy", "tinyproxy", "-d", "-c", conf.c_str(), (char*)nullptr);
      _exit(127);
    }
    for (int i = 0; i < 500; ++i) {  // up to 5 s for it to listen
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) break;  // it exited: the port was taken
      int s = socket(AF_INET, SOCK_STREAM, 0);
      a.sin_port = htons(static_cast<uint16_t>(port));
      bool up = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      close(s);
      // Listening, and still alive a moment later: the listener is tinyproxy, not a stranger.
      if (up) {
        usleep(50000);
        if (waitpid(pid_, nullptr, WNOHANG) == 0) {
          port_ = port;
          return;
        }
        break;
      }
      usleep(10000);
    }
    if (waitpid(pid_, nullptr, WNOHANG) == 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
  }

 public:
  int port() const { return port_; }

 private:
 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

// A Test's report from the API, or {"status": "no answer"}.
inline nlohmann::json report_of(const httplib::Result& r) {
  return r && r->status == 200 ? nlohmann::json::parse(r->body) : nlohmann::json{{"status", "no answer"}};
}

// Two Tests of `body` at once, from two sessions of the agent on `port` (logged in with
// `password`): whether a sign-in's renewal is shared or made twice.
inline std::pair<nlohmann::json, nlohmann::json> two_tests_at_once(int port, const std::string& password,
                                                                   const std::string& body) {
  ApiClient a(port), b(port);
  if (!a.login(password) || !b.login(password)) return {{{"status", "no login"}}, {{"status", "no login"}}};
  nlohmann::json ra, rb;
  std::thread ta([&] { ra = report_of(a.send("POST", "/api/v1/connections/test", body)); });
  std::thread tb([&] { rb = report_of(b.send("POST", "/api/v1/connections/test", body)); });
  ta.join();
  tb.join();
  return {ra, rb};
}

}  // namespace tracklight::test
