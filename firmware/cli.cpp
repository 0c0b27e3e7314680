#include "firmware/cli.hpp"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "firmware/access/admin_password.hpp"
#include "firmware/agent.hpp"
#include "firmware/checks/tester.hpp"
#include "firmware/cli_transfer.hpp"
#include "firmware/page_certificate.hpp"
#include "firmware/model/report.hpp"
#include "firmware/model/url.hpp"
#include "platform/address_watch.hpp"
#include "platform/clock.hpp"
#include "platform/entropy.hpp"
#include "platform/fs.hpp"
#include "platform/http_server.hpp"
#include "platform/https_client.hpp"
#include "platform/log.hpp"
#include "platform/memory.hpp"
#include "platform/process.hpp"
#include "platform/tls_identity.hpp"

namespace tracklight::firmware {
namespace {

const char* kUsageHead =
    "usage: tracklight [options]            run the agent\n"
    "       tracklight [options] passwd     set a new admin password (reads it from the terminal or stdin)\n"
    "       tracklight [options] test [ID]  check stored connections, print the report; exit 1 on failure\n";
const char* kUsage =
    "\n"
    "options:\n"
    "  --listen ADDR:PORT   where the page is served (default 127.0.0.1:8080; [::1]:8080 for IPv6;\n"
    "                       0.0.0.0:8080 to reach it from other machines)\n"
    "  --listen-tls ADDR:PORT  also serve the page over HTTPS there (e.g. 0.0.0.0:8443): with it, plain\n"
    "                       HTTP from other machines is redirected there (not /healthz, not loopback)\n"
    "  --tls-cert FILE      with --tls-key: serve this certificate (PEM, chain allowed) instead of the\n"
    "  --tls-key FILE       device's own self-signed one (made at first start in the state directory)\n"
    "  --state-dir DIR      configuration, device key and setup code (default $STATE_DIRECTORY, else ./state)\n"
    "  --allow-host NAME    also answer to this host name (repeatable); IP addresses, localhost and this\n"
    "                       machine's name (and NAME.local) are always allowed\n"
    "  --log-level LEVEL    debug, info, warn or error (default info)\n"
    "  --arc-token-dir DIR  where Azure Arc's key files may be read (default /var/opt/azcmagent/tokens)\n"
    "  --managed-identity-server URL  also send this machine's managed-identity token to this server\n"
    "                       (https://host:port; repeatable); by default only to Azure DevOps Services\n"
    "  --atlassian-auth-url URL  Atlassian's sign-in service for Jira Cloud OAuth 2.0\n"
    "                       (default https://auth.atlassian.com; another for Atlassian Government)\n"
    "  --atlassian-api-url URL   Atlassian's API gateway (default https://api.atlassian.com)\n"
    "  --version            print the version\n"
    "  --help               print this help\n";

struct Listen {
  std::string host = "127.0.0.1";
  int port = 8080;
};

struct Args {
  Listen plain;
  Listen tls{"", -1};  // port -1: no HTTPS listener
  std::string tls_cert, tls_key;
  std::string state_dir;
  std::vector<std::string> allowed_hosts;
  platform::LogLevel level = platform::LogLevel::Info;
  std::string command;  // "", "passwd", "test", "device-key", "export", "import"
  std::string command_arg;
  std::vector<std::string> command_args;  // the provisioning commands' own arguments
  std::string arc_token_dir;
  std::vector<std::string> managed_identity_servers;
  std::string atlassian_auth_url = "https://auth.atlassian.com", atlassian_api_url = "https://api.atlassian.com";
};

int usage_error(const std::string& why) {
  std::fprintf(stderr, "tracklight: %s\n\n%s%s%s", why.c_str(), kUsageHead, kTransferUsage, kUsage);
  return 2;
}

bool parse_listen(const std::string& text, Listen& a) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) return false;
  std::string host = text.substr(0, colon), port = text.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (!is_ipv4_literal(host) && !is_ipv6_literal(host) && !valid_host_name(host)) return false;
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return false;
  int p = std::stoi(port);
  if (p > 65535) return false;
  a.host = host;
  a.port = p;
  return true;
}

// Returns -1 when parsing succeeded, else the exit code.
int parse_args(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    std::string v;
    if (arg == "--help" || arg == "-h") {
      std::printf("%s%s%s", kUsageHead, kTransferUsage, kUsage);
      return 0;
    } else if (arg == "--version") {
      std::printf("tracklight %s\n", TRACKLIGHT_VERSION);
      return 0;
    } else if (arg == "--listen") {
      if (!value(v) || !parse_listen(v, a.plain)) return usage_error("--listen needs ADDR:PORT, e.g. 127.0.0.1:8080");
    } else if (arg == "--listen-tls") {
      if (!value(v) || !parse_listen(v, a.tls)) return usage_error("--listen-tls needs ADDR:PORT, e.g. 0.0.0.0:8443");
    } else if (arg == "--tls-cert") {
      if (!value(a.tls_cert) || a.tls_cert.empty()) return usage_error("--tls-cert needs a PEM file");
    } else if (arg == "--tls-key") {
      if (!value(a.tls_key) || a.tls_key.empty()) return usage_error("--tls-key needs a PEM file");
    } else if (arg == "--state-dir") {
      if (!value(a.state_dir) || a.state_dir.empty()) return usage_error("--state-dir needs a directory");
    } else if (arg == "--allow-host") {
      if (!value(v) || !valid_host_name(v)) return usage_error("--allow-host needs a host name, e.g. kiosk.lan");
      a.allowed_hosts.push_back(v);
    } else if (arg == "--managed-identity-server") {
      Url u;
      if (!value(v) || !parse_url(v, u).empty() || u.scheme != "https")
        return usage_error("--managed-identity-server needs an https:// URL, e.g. https://tfs.example:443");
      a.managed_identity_servers.push_back(v);
    } else if (arg == "--atlassian-auth-url" || arg == "--atlassian-api-url") {
      Url u;
      if (!value(v) || !parse_url(v, u).empty() || u.scheme != "https" || (!u.path.empty() && u.path != "/"))
        return usage_error(arg + " needs an https:// URL without a path, e.g. https://auth.atlassian.com");
      (arg == "--atlassian-auth-url" ? a.atlassian_auth_url : a.atlassian_api_url) = v;
    } else if (arg == "--arc-token-dir") {
      if (!value(a.arc_token_dir) || a.arc_token_dir.empty() || a.arc_token_dir[0] != '/')
        return usage_error("--arc-token-dir needs an absolute directory");
    } else if (arg == "--log-level") {
      if (!value(v) || !platform::parse_log_level(v, a.level))
        return usage_error("--log-level needs debug, info, warn or error");
    } else if (a.command.empty() && (arg == "passwd" || arg == "test" || is_transfer_command(arg))) {
      a.command = arg;
    } else if (a.command == "test" && a.command_arg.empty() && arg[0] != '-') {
      a.command_arg = arg;
    } else if (is_transfer_command(a.command)) {
      a.command_args.push_back(arg);
    } else {
      return usage_error("unknown argument '" + arg + "'");
    }
  }
  if (a.tls_cert.empty() != a.tls_key.empty()) return usage_error("--tls-cert and --tls-key go together");
  if (!a.tls_cert.empty() && a.tls.port < 0) return usage_error("--tls-cert and --tls-key need --listen-tls");
  if (a.state_dir.empty()) {
    const char* env = std::getenv("STATE_DIRECTORY");  // set by systemd's StateDirectory=
    std::string dir = env && *env ? env : "state";
    a.state_dir = dir.substr(0, dir.find(':'));
  }
  return -1;
}

// Where a managed identity is asked for tokens, as the Azure SDKs decide it (MSAL's
// ManagedIdentitySources): Azure Arc when its two variables are set or its agent is installed,
// else the VM's instance metadata service.
ManagedIdentitySettings managed_identity_settings(const Args& a, platform::Fs& fs) {
  auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return std::string(v ? v : "");
  };
  ManagedIdentitySettings m;
  m.identity_endpoint = env("IDENTITY_ENDPOINT");
  m.imds_endpoint = env("IMDS_ENDPOINT");
  m.imds_host = env("AZURE_POD_IDENTITY_AUTHORITY_HOST");
  m.arc_installed = fs.exists("/opt/azcmagent/bin/himds");
  if (!a.arc_token_dir.empty()) m.arc_token_dir = a.arc_token_dir;
  m.allowed_servers = a.managed_identity_servers;
  while (m.arc_token_dir.size() > 1 && m.arc_token_dir.back() == '/') m.arc_token_dir.pop_back();
  return m;
}

struct Platform {
  platform::PosixFs fs;
  platform::PosixClock clock;
  platform::LinuxEntropy entropy;
  platform::StderrLogger log;
  platform::MbedtlsConnector https{clock};
  explicit Platform(platform::LogLevel level) : log(level) {}
};

std::string shown_host(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

MachineNames this_machine() { return {platform::host_name(), platform::local_addresses()}; }

// Until stopped: a change of this machine's addresses (settled for a moment: DHCP and SLAAC come
// in bursts; at most ~30 s for a flapping link), or the planned expiry check, may call for a new
// device certificate.
void keep_certificate(PageCertificate& cert, platform::AddressWatch& watch, const PageCertificate::Install& install,
                      platform::Logger& log) {
  using Event = platform::AddressWatch::Event;
  constexpr int64_t kSettleMs = 2000;
  constexpr int kMaxSettleRounds = 15;
  const char* unwatched = "the certificate follows a new address only at the next start or daily check";
  if (!watch.watching()) log.warn("https", std::string("cannot watch this machine's addresses (no netlink socket): ") + unwatched);
  for (;;) {
    const bool watching = watch.watching();
    Event ev = watch.wait(cert.next_check_in_ms());
    bool changed = ev == Event::Changed;
    for (int i = 0; ev == Event::Changed && i < kMaxSettleRounds; ++i) ev = watch.wait(kSettleMs);
    if (ev == Event::Stopped) return;
    if (watching && !watch.watching()) log.warn("https", std::string("stopped watching this machine's addresses: ") + unwatched);
    // A wait can end early (other routing news, no stop pipe): only a change or a due check counts.
    if (changed || cert.next_check_in_ms() == 0) cert.refresh(false, install);
  }
}

int run_agent(const Args& a) {
  Platform p(a.level);
  platform::block_signals();
  AgentOptions opts;
  opts.state_dir = a.state_dir;
  opts.allowed_hosts = a.allowed_hosts;
  opts.host_name = platform::host_name();
  Agent agent(opts, p.fs, p.clock, p.entropy, p.log, p.https);
  agent.state().signin.managed_identity = managed_identity_settings(a, p.fs);
  agent.state().signin.atlassian_auth_url = a.atlassian_auth_url;
  agent.state().signin.atlassian_api_url = a.atlassian_api_url;
  Status st = agent.start();
  if (!st) {
    p.log.error("agent", "cannot start: " + st.error().message());
    return 1;
  }
  platform::HttpServerOptions http;
  http.error_headers = {{"X-Frame-Options", "DENY"}, {"X-Content-Type-Options", "nosniff"},
                        {"Referrer-Policy", "no-referrer"}, {"Content-Security-Policy", "default-src 'none'"}};
  auto handler = [&agent](const platform::HttpRequest& r) { return agent.handle(r); };
  std::unique_ptr<platform::HttpServer> tls_server;
  PageCertificate cert({a.state_dir, a.tls_cert, a.tls_key}, p.fs, p.clock, p.log, this_machine);
  std::unique_ptr<platform::AddressWatch> addresses;
  PageCertificate::Install install = [&tls_server](const platform::TlsIdentity& id) {
    return tls_server->replace_certificate(id.cert_pem, id.key_pem);
  };
  if (a.tls.port >= 0) {
    // Subscribed before the addresses are read for the certificate: none can slip in between.
    if (a.tls_cert.empty()) addresses = std::make_unique<platform::AddressWatch>();
    auto id = cert.load();
    if (!id) {
      p.log.error("https", id.error().message());
      return 1;
    }
    platform::HttpServerOptions o = http;
    o.host = a.tls.host;
    o.port = a.tls.port;
    o.tls_cert_pem = id->cert_pem;
    o.tls_key_pem = id->key_pem;
    tls_server = std::make_unique<platform::HttpServer>(o, handler, p.log);
    auto port = tls_server->bind();
    if (!port) {
      p.log.error("https", port.error().message());
      return 1;
    }
    agent.state().opts.https_port = *port;
    p.log.info("https", "listening on https://" + shown_host(a.tls.host) + ":" + std::to_string(*port) + "/");
  }
  http.host = a.plain.host;
  http.port = a.plain.port;
  platform::HttpServer server(http, handler, p.log);
  auto port = server.bind();
  if (!port) {
    p.log.error("http", port.error().message());
    return 1;
  }
  p.log.info("http", "listening on http://" + shown_host(a.plain.host) + ":" + std::to_string(*port) + "/");
  std::thread serving([&] {
    server.run();
    platform::request_stop();
  });
  std::thread serving_tls([&] {
    if (!tls_server) return;
    tls_server->run();
    platform::request_stop();
  });
  std::thread certifying([&] {
    if (addresses) keep_certificate(cert, *addresses, install, p.log);
  });
  std::thread watching([&] { agent.monitor().run(); });
  std::thread polling([&] { agent.board().run(); });
  // Start-up is over once both listeners wait for connections: what parsing the configuration
  // and making the certificate freed goes back to the kernel.
  server.wait_until_serving();
  if (tls_server) tls_server->wait_until_serving();
  platform::return_idle_memory();
  platform::wait_for_signals({[&] {
                                p.log.info("agent", "stopping");
                                server.stop();
                                if (tls_server) tls_server->stop();
                              },
                              [&] {
                                agent.reload();
                                if (tls_server) cert.refresh(true, install);
                              }});
  server.stop();
  if (tls_server) tls_server->stop();
  agent.monitor().stop();  // cancels a check in flight
  agent.board().stop();    // and a board fetch
  if (addresses) addresses->stop();
  certifying.join();
  serving.join();
  serving_tls.join();
  watching.join();
  polling.join();
  p.log.info("agent", "stopped");
  return 0;
}

// The offline commands read the state directory the way the agent does at start-up, but never
// repair or clean it: a running agent may be in the middle of a save.
bool load_offline(ConfigStore& store, LoadedConfig& loaded, StoreAccess access) {
  Status st = store.open(access);
  if (!st) {
    std::fprintf(stderr, "tracklight: %s\n", st.error().message().c_str());
    return false;
  }
  loaded = store.load();
  return true;
}

int run_passwd(const Args& a) {
  Platform p(platform::LogLevel::Warn);
  ConfigStore store(p.fs, p.entropy, p.log, a.state_dir);
  LoadedConfig loaded;
  if (!load_offline(store, loaded, StoreAccess::Edit)) return 1;
  if (!loaded.problem.empty()) {
    std::fprintf(stderr, "tracklight: %s\nFix or move the file first; nothing was changed.\n", loaded.problem.c_str());
    return 1;
  }
  auto pw = platform::read_secret_line("New admin password: ");
  if (!pw) return std::fprintf(stderr, "tracklight: no password given\n"), 1;
  std::string problem = password_problem(*pw);
  if (!problem.empty()) return std::fprintf(stderr, "tracklight: password: %s\n", problem.c_str()), 1;
  auto hash = hash_password(*pw, p.entropy);
  if (!hash) return std::fprintf(stderr, "tracklight: %s\n", hash.error().message().c_str()), 1;
  loaded.config.agent.admin_password_hash = *hash;
  Status st = store.save(loaded.config);
  if (!st) return std::fprintf(stderr, "tracklight: could not save: %s\n", st.error().message().c_str()), 1;
  (void)p.fs.remove(a.state_dir + "/setup-code");
  std::printf("Admin password changed in %s.\nA running agent picks it up at its next save, or at once on reload\n"
              "(systemctl reload tracklight, or kill -HUP its pid), which also logs everyone out.\n",
              store.path().c_str());
  return 0;
}

int run_test(const Args& a) {
  Platform p(platform::LogLevel::Warn);
  ConfigStore store(p.fs, p.entropy, p.log, a.state_dir);
  LoadedConfig loaded;
  if (!load_offline(store, loaded, StoreAccess::ReadOnly)) return 1;
  if (!loaded.problem.empty()) std::fprintf(stderr, "tracklight: %s\n", loaded.problem.c_str());
  bool all_ok = true, any = false;
  SigninContext signin;
  signin.fs = &p.fs;
  signin.managed_identity = managed_identity_settings(a, p.fs);
  signin.atlassian_auth_url = a.atlassian_auth_url;
  signin.atlassian_api_url = a.atlassian_api_url;
  // A renewed sign-in's rotated refresh token is saved as the agent saves it, into the file as
  // it is on disk now (a running agent may have saved meanwhile). The state directory is read
  // only until then: its key exists, or there would be no refresh token to renew.
  signin.keep_refresh_token = [&](const Connection& c, const std::string& used, const std::string& fresh) -> Result<bool> {
    ConfigStore edit(p.fs, p.entropy, p.log, a.state_dir);
    Status st = edit.open(StoreAccess::Edit);
    if (!st) return st.error();
    LoadedConfig now = edit.load();
    Connection* stored = now.problem.empty() ? now.config.find(c.id) : nullptr;
    if (!stored || stored->signed_in_as != c.signed_in_as ||
        (stored->refresh_token != used && stored->refresh_token != c.refresh_token))
      return false;  // signed in anew or removed meanwhile: not this sign-in's to replace
    stored->refresh_token = fresh;
    st = edit.save(now.config);
    if (!st) return st.error();
    return true;
  };
  signin.stored_refresh_token = [&](const Connection& c) {
    LoadedConfig now = store.load();
    const Connection* stored = now.problem.empty() ? now.config.find(c.id) : nullptr;
    return stored && stored->signed_in_as == c.signed_in_as ? stored->refresh_token : std::string();
  };
  for (const auto& c : loaded.config.connections) {
    if (!a.command_arg.empty() && c.id != a.command_arg) continue;
    any = true;
    TrackerEnv env{p.clock, p.https, 20000, nullptr, &signin};
    Report r = run_test(c, env);
    all_ok = all_ok && r.ok;
    std::printf("%s (%s): %s\n", c.id.c_str(), c.provider.c_str(), r.status.c_str());
    for (const auto& ch : r.checks)
      std::printf("  %-5s %-8s %s%s%s\n", ch.result.c_str(), ch.id.c_str(), ch.message.c_str(),
                  ch.hint.empty() ? "" : " - ", ch.hint.c_str());
  }
  if (!any) {
    std::fprintf(stderr, "tracklight: %s\n", a.command_arg.empty() ? "no connections stored" : ("no connection with id " + a.command_arg).c_str());
    return 1;
  }
  return all_ok ? 0 : 1;
}

}  // namespace

int run_cli(int argc, char** argv) {
  Args a;
  int rc = parse_args(argc, argv, a);
  if (rc >= 0) return rc;
  platform::set_private_umask();
  platform::use_single_heap();
  if (a.command == "passwd") return run_passwd(a);
  if (a.command == "test") return run_test(a);
  if (is_transfer_command(a.command)) return run_transfer_command(a.command, a.state_dir, a.command_args);
  return run_agent(a);
}

}  // namespace tracklight::firmware
