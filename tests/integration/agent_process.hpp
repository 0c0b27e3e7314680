// Starts the real tracklight binary on 127.0.0.1 with a free port and a temporary state
// directory, and talks HTTP to it. Every wait is bounded.
#pragma once
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <zlib.h>

namespace tracklight::test {

// The page's assets come gzip-compressed only (firmware/web/static_assets.cpp); "" when `gz` is
// not a complete gzip stream.
inline std::string gunzip(const std::string& gz) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return "";
  std::string out;
  char buf[16384];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  }
  inflateEnd(&z);
  return rc == Z_STREAM_END ? out : "";
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/tracklight-it-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class AgentProcess {
 public:
  explicit AgentProcess(std::string state_dir) : state_dir_(std::move(state_dir)) {}
  ~AgentProcess() { kill9(); }
  std::vector<std::pair<std::string, std::string>> env;  // set in the agent's environment

  // Starts the agent and waits (at most 15 s) until it logs the port it listens on.
  bool start(const std::vector<std::string>& extra = {}) {
    log_path_ = state_dir_ + ".log";
    std::ofstream(log_path_, std::ios::trunc).close();
    pid_ = fork();
    if (pid_ == 0) {
      int fd = ::open(log_path_.c_str(), O_WRONLY | O_APPEND);
      dup2(fd, 2);
      for (const auto& kv : env) setenv(kv.first.c_str(), kv.second.c_str(), 1);
      std::vector<std::string> args = {TRACKLIGHT_BINARY, "--listen", "127.0.0.1:0", "--state-dir", state_dir_,
                                       "--log-level", "debug"};
      args.insert(args.end(), extra.begin(), extra.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < until) {
      std::string log = read_text(log_path_);
      size_t at = log.find("listening on http://");
      if (at != std::string::npos && log.find('\n', at) != std::string::npos) {
        const std::string line = log.substr(at, log.find('\n', at) - at);
        port_ = std::atoi(line.c_str() + line.rfind(':') + 1);
        return port_ > 0;
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  // SIGTERM and wait (at most 10 s); returns the exit status, or -1.
  int stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int rc = wait_exit(10000);
    return rc;
  }
  void kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    wait_exit(10000);
  }
  void signal(int sig) { ::kill(pid_, sig); }

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string log() const { return read_text(log_path_); }
  const std::string& state_dir() const { return state_dir_; }

 private:
  int wait_exit(int ms) {
    for (int waited = 0; waited < ms; waited += 5) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return -1;
  }
  std::string state_dir_, log_path_;
  pid_t pid_ = -1;
  int port_ = 0;
};

struct RawReply {
  int status = 0;
  std::string text;
};

// Sends bytes exactly as given (for requests a well-behaved client would never make).
// A TCP connection to 127.0.0.1:port, or -1.
inline int connect_loopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

inline RawReply raw_request(int port, const std::string& bytes, int timeout_s = 10) {
  RawReply out;
  int fd = connect_loopback(port);
  if (fd < 0) return out;
  timeval tv{timeout_s, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close early on an oversized request
    sent += static_cast<size_t>(n);
  }
  shutdown(fd, SHUT_WR);
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) out.text.append(buf, static_cast<size_t>(n));
  close(fd);
  if (out.text.rfind("HTTP/1.1 ", 0) == 0) out.status = std::atoi(out.text.c_str() + 9);
  return out;
}

// Final answers (not 100 Continue) in what a connection received.
inline size_t answers_in(const std::string& text) {
  size_t n = 0;
  for (size_t at = text.find("HTTP/1.1 "); at != std::string::npos; at = text.find("HTTP/1.1 ", at + 1))
    n += text.compare(at, 12, "HTTP/1.1 100") != 0;
  return n;
}

inline long proc_value(pid_t pid, const char* key) {  // e.g. VmRSS in kB
  std::istringstream in(read_text("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + std::strlen(key) + 1);
  return -1;
}

inline size_t open_fds(pid_t pid) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) n += !e.path().empty();
  return n;
}

// What a command printed on its first line of standard output.
// Everything a command printed on its standard output.
inline std::string output_of(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

inline std::string first_line_of(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  char buf[8192] = "";
  const bool got = p && fgets(buf, sizeof buf, p);
  if (p) pclose(p);
  std::string line = got ? buf : "";
  return line.substr(0, line.find_last_not_of("\r\n") + 1);
}

// What browsers show, from openssl rather than from the code under test.
inline std::string openssl_sha256_fingerprint(const std::string& pem_path) {
  const std::string line = first_line_of("openssl x509 -in " + pem_path + " -noout -fingerprint -sha256");
  const size_t eq = line.find('=');
  return eq == std::string::npos ? "" : line.substr(eq + 1);
}

// A logged-in API client.
class ApiClient {
 public:
  explicit ApiClient(int port) : http_("127.0.0.1", port) {
    http_.set_connection_timeout(5);
    http_.set_read_timeout(20);
    http_.set_decompress(false);  // built without zlib: the page's gzip bytes come as they are (gunzip)
  }
  httplib::Result send(const std::string& method, const std::string& path, const std::string& body = "",
                       httplib::Headers extra = {}) {
    httplib::Headers h = extra;
    if (!cookie_.empty()) h.emplace("Cookie", "tracklight_session=" + cookie_);
    if (!csrf_.empty() && !extra.count("X-CSRF-Token")) h.emplace("X-CSRF-Token", csrf_);
    const char* type = "application/json";
    if (method == "GET") return http_.Get(path.c_str(), h);
    if (method == "DELETE") return http_.Delete(path.c_str(), h);
    if (method == "PUT") return http_.Put(path.c_str(), h, body, type);
    return http_.Post(path.c_str(), h, body, type);
  }
  bool login_with(const httplib::Result& r) {
    if (!r || r->status != 200) return false;
    std::string sc = r->get_header_value("Set-Cookie");
    cookie_ = sc.substr(sc.find('=') + 1, 64);
    csrf_ = nlohmann::json::parse(r->body)["csrf_token"];
    return true;
  }
  bool setup(const std::string& code, const std::string& password) {
    return login_with(send("POST", "/api/v1/setup", nlohmann::json{{"setup_code", code}, {"password", password}}.dump()));
  }
  bool login(const std::string& password) {
    return login_with(send("POST", "/api/v1/login", nlohmann::json{{"password", password}}.dump()));
  }
  void forget_session() { cookie_.clear(), csrf_.clear(); }

 private:
  httplib::Client http_;
  std::string cookie_, csrf_;
};

inline std::string setup_code_of(const std::string& state_dir) {
  std::string code = read_text(state_dir + "/setup-code");
  while (!code.empty() && code.back() == '\n') code.pop_back();
  return code;
}

}  // namespace tracklight::test
