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

namespace {

// IPv6 addresses that come and go on their own: privacy (temporary) addresses rotate daily,
// deprecated ones are on their way out, tentative ones are not usable yet (the kernel announces
// them again once they are). Named in a certificate, they would remake it every day.
std::vector<std::string> passing_ipv6_addresses() {
  std::vector<std::string> out;
  FILE* f = std::fopen("/proc/net/if_inet6", "re");
  if (!f) return out;
  char hex[33] = "";
  unsigned ifindex = 0, prefix = 0, scope = 0, flags = 0;
  char name[64] = "";
  while (std::fscanf(f, "%32s %x %x %x %x %63s", hex, &ifindex, &prefix, &scope, &flags, name) == 6) {
    constexpr unsigned kTemporary = 0x01, kDadFailed = 0x08, kDeprecated = 0x20, kTentative = 0x40;
    if (!(flags & (kTemporary | kDadFailed | kDeprecated | kTentative))) continue;
    in6_addr a{};
    for (int i = 0; i < 16; ++i) {
      unsigned byte = 0;
      if (std::sscanf(hex + 2 * i, "%2x", &byte) != 1) break;
      a.s6_addr[i] = static_cast<unsigned char>(byte);
    }
    char text[INET6_ADDRSTRLEN] = "";
    if (::inet_ntop(AF_INET6, &a, text, sizeof text)) out.push_back(text);
  }
  std::fclose(f);
  return out;
}

}  // namespace

std::vector<std::string> local_addresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  const std::vector<std::string> passing = passing_ipv6_addresses();
  for (ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr) continue;
    char text[INET6_ADDRSTRLEN] = "";
    if (a->ifa_addr->sa_family == AF_INET) {
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, text, sizeof text);
    } else if (a->ifa_addr->sa_family == AF_INET6) {
      const in6_addr& v6 = reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr;
      if (IN6_IS_ADDR_LINKLOCAL(&v6)) continue;
      ::inet_ntop(AF_INET6, &v6, text, sizeof text);
      if (std::find(passing.begin(), passing.end(), text) != passing.end()) continue;
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
