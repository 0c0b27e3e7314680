#include "platform/process.hpp"

#include <cerrno>
#include <csignal>
#include <algorithm>
#include <cstdio>
#include <pthread.h>
#include <sys/stat.h>
#include <termios.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <unistd.h>

namespace tracklight::platform {
namespace {

sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);  // internal: request_stop()
  return set;
}

}  // namespace

void block_signals() {
  sigset_t set = handled_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a client closing early must not kill the agent
}

void wait_for_signals(const SignalHandlers& handlers) {
  sigset_t set = handled_signals();
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGHUP) {
      if (handlers.on_reload) handlers.on_reload();
      continue;
    }
    if (handlers.on_stop) handlers.on_stop();
    return;
  }
}

void request_stop() { ::kill(::getpid(), SIGUSR1); }

void set_private_umask() { ::umask(077); }

std::string host_name() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

std::vector<std::string> local_addresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr) continue;
    char text[INET6_ADDRSTRLEN] = "";
    if (a->ifa_addr->sa_family == AF_INET) {
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, text, sizeof text);
    } else if (a->ifa_addr->sa_family == AF_INET6) {
      const in6_addr& v6 = reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr;
      if (IN6_IS_ADDR_LINKLOCAL(&v6)) continue;
      ::inet_ntop(AF_INET6, &v6, text, sizeof text);
    }
    if (*text) out.push_back(text);
  }
  ::freeifaddrs(list);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<std::string> read_secret_line(const std::string& prompt) {
  const bool tty = ::isatty(STDIN_FILENO);
  termios old{};
  if (tty) {
    std::fprintf(stderr, "%s", prompt.c_str());
    std::fflush(stderr);
    tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  char buf[1024];
  bool got = std::fgets(buf, sizeof buf, stdin) != nullptr;
  std::string line = got ? buf : "";
  if (!line.empty() && line.back() == '\n') line.pop_back();
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    std::fprintf(stderr, "\n");
  }
  if (!got) return Error{ErrorCode::BadInput, "read password", 0, "no input"};
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace tracklight::platform
