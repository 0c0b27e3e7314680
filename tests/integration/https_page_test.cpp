// The page over HTTPS (--listen-tls) on the real binary, checked by Python's ssl client (OpenSSL),
// which trusts only the device's own certificate and verifies the address it connects to.
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <sys/stat.h>

#include "tests/integration/fake_tracker.hpp"

namespace tracklight::test {
namespace {

using nlohmann::json;

int port_after(const std::string& log, const std::string& prefix) {
  size_t at = log.find(prefix);
  return at == std::string::npos ? 0 : std::atoi(log.c_str() + at + prefix.size());
}

std::string logged(const std::string& log, const std::string& prefix) {
  size_t at = log.find(prefix);
  if (at == std::string::npos) return "";
  at += prefix.size();
  return log.substr(at, log.find('\n', at) - at);
}

json probe(const std::string& host, int port, const std::string& cert, const std::string& code) {
  const std::string cmd = "python3 " + std::string(TRACKLIGHT_SOURCE_DIR) + "/tests/integration/https_probe.py " +
                          host + " " + std::to_string(port) + " " + cert + " " + code + " 2>&1";
  const std::string out = first_line_of(cmd);
  return json::parse(out, nullptr, false);
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_mode & 0777 : 0;
}

// A non-loopback IPv4 address of this machine, or "".
std::string lan_address() {
  ifaddrs* list = nullptr;
  std::string out;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* a = list; a && out.empty(); a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
    char text[INET_ADDRSTRLEN] = "";
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, text, sizeof text);
    if (std::string(text).rfind("127.", 0) != 0) out = text;
  }
  freeifaddrs(list);
  return out;
}

TEST(HttpsPage, DeviceCertificateIsMadeLoggedVerifiedAndKeptAcrossRestarts) {
  TempDir tmp;
  const std::string state = tmp.path() + "/state";
  AgentProcess agent(state);
  ASSERT_TRUE(agent.start({"--listen-tls", "127.0.0.1:0"})) << agent.log();
  const std::string log = agent.log();
  const int port = port_after(log, "listening on https://127.0.0.1:");
  ASSERT_GT(port, 0) << log;
  const std::string cert = state + "/tls-cert.pem";
  EXPECT_EQ(mode_of(cert), 0600u);
  EXPECT_EQ(mode_of(state + "/tls-key.pem"), 0600u);
  EXPECT_NE(log.find("tls-cert.pem (made now)"), std::string::npos) << log;
  const std::string fingerprint = logged(log, "certificate SHA-256 fingerprint ");
  EXPECT_EQ(fingerprint, openssl_sha256_fingerprint(cert));
  EXPECT_EQ(log.find("PRIVATE KEY"), std::string::npos) << "the key was logged";

  json seen = probe("127.0.0.1", port, cert, setup_code_of(state));
  ASSERT_TRUE(seen.is_object()) << seen.dump();
  EXPECT_EQ(seen["healthz"], 200) << seen.dump();
  EXPECT_EQ(seen["version"], "TLSv1.3");
  EXPECT_EQ(seen["fingerprint"], fingerprint) << "the logged fingerprint is not the one served";
  std::vector<std::string> names = seen["names"];
  auto has = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  EXPECT_TRUE(has("localhost") && has("127.0.0.1")) << seen["names"].dump();
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  if (std::string(host) != "localhost" && *host) {
    EXPECT_TRUE(has(host)) << seen["names"].dump();
    EXPECT_TRUE(has(std::string(host) + ".local")) << seen["names"].dump();
  }
  const std::string lan = lan_address();
  if (!lan.empty()) {
    EXPECT_TRUE(has(lan)) << lan << " " << seen["names"].dump();
  }
  EXPECT_EQ(seen["setup"], 200) << seen.dump();
  EXPECT_NE(seen["set_cookie"].get<std::string>().find("; Secure"), std::string::npos) << seen.dump();
  EXPECT_NE(seen["set_cookie"].get<std::string>().find("HttpOnly"), std::string::npos) << seen.dump();

  // Verified by name too: Python checks localhost against the certificate.
  EXPECT_EQ(probe("localhost", port, cert, "x")["healthz"], 200);

  // A restart keeps the certificate (same names): a browser's exception or pin stays valid.
  ASSERT_EQ(agent.stop(), 0);
  AgentProcess again(state);
  ASSERT_TRUE(again.start({"--listen-tls", "127.0.0.1:0"})) << again.log();
  EXPECT_EQ(again.log().find("(made now)"), std::string::npos) << again.log();
  EXPECT_EQ(logged(again.log(), "certificate SHA-256 fingerprint "), fingerprint);
}

TEST(HttpsPage, ACertificateForOtherNamesIsMadeAgainWithTheSameKey) {
  TempDir tmp;
  const std::string state = tmp.path() + "/state";
  std::filesystem::create_directories(state);
  // A certificate from elsewhere (not for this machine's names) in the device's place.
  std::filesystem::copy_file(pki_dir() + "/wronghost.pem", state + "/tls-cert.pem");
  AgentProcess agent(state);
  ASSERT_TRUE(agent.start({"--listen-tls", "127.0.0.1:0"})) << agent.log();
  EXPECT_NE(agent.log().find("(made now)"), std::string::npos) << agent.log();
  const std::string key = read_text(state + "/tls-key.pem");
  const std::string spki = logged(agent.log(), "public key SHA-256 (base64, for pinning) ");
  ASSERT_EQ(agent.stop(), 0);
  std::filesystem::remove(state + "/tls-cert.pem");
  AgentProcess again(state);
  ASSERT_TRUE(again.start({"--listen-tls", "127.0.0.1:0"})) << again.log();
  EXPECT_NE(again.log().find("(made now)"), std::string::npos);
  EXPECT_EQ(read_text(state + "/tls-key.pem"), key) << "the key was replaced";
  EXPECT_EQ(logged(again.log(), "public key SHA-256 (base64, for pinning) "), spki);
}

TEST(HttpsPage, ThePersonsOwnCertificateIsServedAndAWrongKeyIsRefusedByName) {
  TempDir tmp;
  AgentProcess agent(tmp.path() + "/state");
  const std::string pem = pki_dir() + "/good.pem";
  ASSERT_TRUE(agent.start({"--listen-tls", "127.0.0.1:0", "--tls-cert", pem, "--tls-key", pki_dir() + "/good.key"}))
      << agent.log();
  const int port = port_after(agent.log(), "listening on https://127.0.0.1:");
  json seen = probe("127.0.0.1", port, pki_dir() + "/ca.pem", setup_code_of(tmp.path() + "/state"));
  EXPECT_EQ(seen["fingerprint"], openssl_sha256_fingerprint(pem)) << seen.dump();
  EXPECT_EQ(logged(agent.log(), "certificate SHA-256 fingerprint "), openssl_sha256_fingerprint(pem));
  EXPECT_FALSE(std::filesystem::exists(tmp.path() + "/state/tls-cert.pem")) << "a device certificate was made anyway";
  agent.stop();

  AgentProcess wrong(tmp.path() + "/state2");
  EXPECT_FALSE(wrong.start({"--listen-tls", "127.0.0.1:0", "--tls-cert", pem, "--tls-key", pki_dir() + "/expired.key"}));
  EXPECT_NE(wrong.log().find("does not belong to the certificate"), std::string::npos) << wrong.log();
  EXPECT_EQ(wrong.log().find("BEGIN"), std::string::npos) << "key material in the log";
}

// Plain HTTP from another machine goes to HTTPS; /healthz and the device itself (the kiosk) stay.
TEST(HttpsPage, PlainHttpFromTheNetworkIsRedirectedExceptHealthzAndLoopback) {
  const std::string lan = lan_address();
  if (lan.empty()) GTEST_SKIP() << "this machine has no address but loopback";
  TempDir tmp;
  AgentProcess agent(tmp.path() + "/state");
  ASSERT_TRUE(agent.start({"--listen", "0.0.0.0:0", "--listen-tls", "127.0.0.1:0"})) << agent.log();
  const int tls = port_after(agent.log(), "listening on https://127.0.0.1:");
  const int plain = port_after(agent.log(), "listening on http://0.0.0.0:");
  ASSERT_GT(plain, 0) << agent.log();
  httplib::Client from_lan(lan, plain);
  auto r = from_lan.Get("/board?key=abc+d");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 308);
  EXPECT_EQ(r->get_header_value("Location"), "https://" + lan + ":" + std::to_string(tls) + "/board?key=abc+d");
  auto h = from_lan.Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  httplib::Client local("127.0.0.1", plain);
  local.set_decompress(false);  // the page comes gzip-compressed; this client has no zlib
  auto k = local.Get("/board", {{"Accept-Encoding", "gzip"}});  // it sends an empty one otherwise: no coding
  ASSERT_TRUE(k);
  EXPECT_EQ(k->status, 200) << "the kiosk on the device was redirected";
}

}  // namespace

// A board that started before DHCP answered: the address that arrives later is in the
// certificate served from then on, made with the same key, without a restart. In a network
// namespace of its own (unshare -rn), so this machine's addresses are not touched.
TEST(HttpsPage, AnAddressThatArrivesLaterIsAddedWhileRunning) {
  if (std::system("unshare -rn true >/dev/null 2>&1") != 0) GTEST_SKIP() << "no network namespaces here (unshare -rn)";
  TempDir tmp;
  const std::string cmd = "unshare -rn python3 " + std::string(TRACKLIGHT_SOURCE_DIR) +
                          "/tests/integration/address_change.py " + TRACKLIGHT_BINARY + " " + tmp.path() +
                          "/state 10.77.0.5 2>&1";
  const std::string out = output_of(cmd);
  json seen = json::parse(out.substr(0, out.find('\n')), nullptr, false);
  ASSERT_TRUE(seen.is_object()) << out;  // the whole output: a traceback's last lines say why
  const auto has = [](const json& names, const char* n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  };
  EXPECT_FALSE(has(seen["before"]["names"], "10.77.0.5")) << seen["before"].dump();
  EXPECT_TRUE(seen["renewed"].get<bool>()) << seen["log"].get<std::string>();
  EXPECT_TRUE(has(seen["after"]["names"], "10.77.0.5")) << seen["after"].dump();
  EXPECT_TRUE(has(seen["after"]["names"], "127.0.0.1"));
  EXPECT_TRUE(has(seen["after"]["names"], "2001:db8::5")) << seen["after"].dump();
  EXPECT_FALSE(has(seen["after"]["names"], "2001:db8::7")) << "a deprecated address was named";
  EXPECT_NE(seen["after"]["fingerprint"], seen["before"]["fingerprint"]);
  const std::string log = seen["log"].get<std::string>();
  std::vector<std::string> pins;
  for (size_t at = log.find("for pinning) "); at != std::string::npos; at = log.find("for pinning) ", at + 1))
    pins.push_back(log.substr(at + 13, log.find('\n', at) - at - 13));
  ASSERT_EQ(pins.size(), 2u) << log;
  EXPECT_EQ(pins[0], pins[1]) << "the key changed: a pinned browser would refuse the device";
  size_t made = 0;
  for (size_t at = log.find("(made now) for "); at != std::string::npos; at = log.find("(made now) for ", at + 1)) ++made;
  EXPECT_EQ(made, 2u) << "made at first start, then again for the new address:\n" << log;
  EXPECT_EQ(log.find("cannot watch"), std::string::npos) << log;
}

// The person renews their own certificate files and sends SIGHUP: new connections get the new
// certificate, without a restart.
TEST(HttpsPage, ThePersonsRenewedCertificateIsServedAfterReload) {
  TempDir tmp;
  const std::string pem = tmp.path() + "/page.pem", key = tmp.path() + "/page.key";
  std::filesystem::copy_file(pki_dir() + "/good.pem", pem);
  std::filesystem::copy_file(pki_dir() + "/good.key", key);
  AgentProcess agent(tmp.path() + "/state");
  ASSERT_TRUE(agent.start({"--listen-tls", "127.0.0.1:0", "--tls-cert", pem, "--tls-key", key})) << agent.log();
  const int port = port_after(agent.log(), "listening on https://127.0.0.1:");
  const std::string code = setup_code_of(tmp.path() + "/state");
  EXPECT_EQ(probe("127.0.0.1", port, pki_dir() + "/ca.pem", code)["fingerprint"], openssl_sha256_fingerprint(pem));

  std::filesystem::copy_file(pki_dir() + "/ec256.pem", pem, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(pki_dir() + "/ec256.key", key, std::filesystem::copy_options::overwrite_existing);
  ::kill(agent.pid(), SIGHUP);
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (agent.log().find("serving the new certificate") == std::string::npos && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(probe("127.0.0.1", port, pki_dir() + "/ca.pem", code)["fingerprint"],
            openssl_sha256_fingerprint(pki_dir() + "/ec256.pem")) << agent.log();
}

}  // namespace tracklight::test
