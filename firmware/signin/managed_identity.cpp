#include "firmware/signin/managed_identity.hpp"

#include <algorithm>
#include <cerrno>

#include "firmware/model/text.hpp"
#include "firmware/model/url.hpp"
#include "firmware/signin/entra.hpp"
#include "firmware/signin/signin.hpp"
#include "firmware/tracker/endpoint.hpp"
#include "firmware/tracker/json_read.hpp"
#include "platform/crypto.hpp"

namespace tracklight::firmware {
namespace {

constexpr size_t kMaxArcKey = 4096;
// The endpoint is on this machine (or its hypervisor) and answers in milliseconds; off Azure,
// nothing answers at 169.254.169.254, and the person learns that in seconds, not at the Test's end.
constexpr int64_t kEndpointWaitMs = 5000;

struct Endpoint {
  bool arc = false;
  std::string url;  // without the query
};

Endpoint pick(const ManagedIdentitySettings& s) {
  if (!s.identity_endpoint.empty() && !s.imds_endpoint.empty()) return {true, s.identity_endpoint};
  if (s.arc_installed) return {true, "http://127.0.0.1:40342/metadata/identity/oauth2/token"};
  std::string host = s.imds_host.empty() ? "http://169.254.169.254" : s.imds_host;
  while (!host.empty() && host.back() == '/') host.pop_back();
  return {false, host + "/metadata/identity/oauth2/token"};
}

// A loopback address, or IMDS's: the only places plain HTTP may carry a token. Addresses only: a
// name could resolve anywhere.
bool on_this_machine(const Url& u) {
  return u.host == "::1" || u.host == "169.254.169.254" || (is_ipv4_literal(u.host) && u.host.rfind("127.", 0) == 0);
}

// IMDS answers these while an identity is being assigned or the service is busy (MSAL retries
// them): not a refusal of the settings.
bool temporary(int status) { return status == 404 || status == 408 || status == 410 || status == 429 || status >= 500; }

constexpr auto failed = &TokenFetch::failed;

std::string himds_hint() {
  return "The service user must be in the himds group to read Azure Arc's token: add it (usermod -aG himds <user>, or "
         "SupplementaryGroups=himds in the systemd unit) and restart tracklight.";
}

}  // namespace

std::string managed_identity_refusal(const Connection& c, const ManagedIdentitySettings& s) {
  for (const auto& origin : s.allowed_servers)
    if (same_origin(origin, c.server_url)) return "";
  Url u;
  if (!parse_url(c.server_url, u).empty()) return "the Server URL does not parse";
  const bool services = u.host == "dev.azure.com" ||
                        (u.host.size() > 17 && u.host.compare(u.host.size() - 17, 17, ".visualstudio.com") == 0);
  if (!services || u.port != 443)
    return "The machine's managed identity is used only with Azure DevOps Services (dev.azure.com, *.visualstudio.com)";
  if (!c.ca_cert.empty()) return "The machine's managed identity is not sent through a custom CA certificate";
  return "";
}

std::string arc_key_path(const std::string& www_authenticate, const std::string& token_dir) {
  const std::string prefix = "Basic realm=";
  if (www_authenticate.compare(0, prefix.size(), prefix) != 0) return "";
  std::string path = www_authenticate.substr(prefix.size());
  if (path.size() >= 2 && path.front() == '"' && path.back() == '"') path = path.substr(1, path.size() - 2);
  const std::string dir = token_dir + "/";
  if (path.compare(0, dir.size(), dir) != 0) return "";
  const std::string name = path.substr(dir.size());
  if (name.size() <= 4 || name.size() > 255 || name.find('/') != std::string::npos || name[0] == '.' ||
      name.compare(name.size() - 4, 4, ".key") != 0)
    return "";
  for (unsigned char ch : name)
    if (ch < 0x21 || ch == 0x7f) return "";
  return path;
}

TokenFetch managed_identity_token(const Connection& c, TrackerEnv& env, int64_t deadline_ms) {
  const ManagedIdentitySettings none;
  const ManagedIdentitySettings& s = env.signin ? env.signin->managed_identity : none;
  const std::string refusal = managed_identity_refusal(c, s);
  if (!refusal.empty())
    return failed("invalid", refusal,
                  "The token is this machine's credential, so a connection's settings alone cannot send it elsewhere "
                  "(a CA certificate could vouch for another server). To use it with another server, start tracklight "
                  "with --managed-identity-server https://host:port; or sign in as a service principal.");
  const Endpoint ep = pick(s);
  Url u;
  if (!parse_url(ep.url, u).empty() || u.scheme != "http" || !on_this_machine(u))
    return failed("invalid", "The managed identity endpoint " + ep.url + " is not on this machine",
                  "tracklight asks a managed identity endpoint over plain HTTP only at a loopback address or 169.254.169.254; "
                  "check IDENTITY_ENDPOINT / AZURE_POD_IDENTITY_AUTHORITY_HOST in the service's environment.");
  if (ep.arc && !c.client_id.empty())
    return failed("invalid", "Azure Arc offers only the machine's system-assigned identity",
                  "Leave Client Id empty for a managed identity on an Azure Arc-enabled server.");
  platform::HttpsTarget t;
  t.host = u.host;
  t.port = u.port;
  t.host_is_ip = u.host_is_ip;
  t.plain_http = true;
  t.deadline_ms = std::min(deadline_ms, env.clock.monotonic_ms() + kEndpointWaitMs);
  t.cancel = env.cancel;
  t.max_response_bytes = 64 * 1024;
  std::string path = u.path + (ep.arc ? "?api-version=2019-11-01" : "?api-version=2018-02-01") +
                     "&resource=" + kAzureDevOpsResource;
  if (!c.client_id.empty()) path += "&client_id=" + path_segment(c.client_id);
  const std::string what = ep.arc ? "the Azure Arc identity endpoint at " + u.host + ":" + std::to_string(u.port)
                                  : "the Azure instance metadata service at " + u.host;
  auto conn = env.signin_connector().open(t);
  if (!conn)
    return failed("interrupted", "Could not reach " + what + ": " + conn.error().detail,
                  ep.arc ? "Check that the Azure Connected Machine agent (himds) runs: azcmagent show."
                         : "A managed identity works only on an Azure VM (or an Azure Arc-enabled server) with an identity assigned.");
  platform::HeaderList headers = {{"Metadata", "true"}};
  auto res = (*conn)->get(path, headers);
  if (res && ep.arc && res->status == 401) {
    const std::string* challenge = res->header("WWW-Authenticate");
    const std::string key_path = challenge ? arc_key_path(*challenge, s.arc_token_dir) : "";
    if (key_path.empty())
      return failed("interrupted", "Azure Arc's challenge does not name a key file in " + s.arc_token_dir,
                    "Only a .key file directly in Arc's token folder is read. Check that this is the Azure Connected Machine agent.");
    if (!env.signin || !env.signin->fs) return failed("interrupted", "Azure Arc's key file cannot be read here", "");
    auto key = env.signin->fs->read_state_file(key_path, kMaxArcKey);
    if (!key)
      return key.error().backend_code == EACCES || key.error().code == ErrorCode::ReadOnly
                 ? failed("not-authorized", "tracklight may not read Azure Arc's key file " + key_path, himds_hint())
                 : failed("interrupted", "Could not read Azure Arc's key file: " + key.error().detail,
                          "Check that the file is a regular file of at most 4096 bytes.");
    if (has_control(*key))  // it goes into a header line
      return failed("interrupted", "Azure Arc's key file " + key_path + " holds control characters",
                    "Check that this is the Azure Connected Machine agent's token folder.");
    headers.emplace_back("Authorization", "Basic " + *key);
    res = (*conn)->get(path, headers);
  }
  if (!res) return failed("interrupted", "Could not reach " + what + ": " + res.error().detail, "This is retried.");
  const TokenAnswer a = read_token_answer(*res);
  if (a.ok()) return TokenFetch::token_of(a.access_token, a.expires_in_s);
  if (!a.unreadable.empty() || temporary(res->status) || a.error == "temporarily_unavailable")
    return failed("interrupted", "The managed identity endpoint answered HTTP " + std::to_string(res->status) +
                                     (a.unreadable.empty() ? "" : " (" + a.unreadable + ")"),
                  "This is retried.");
  return failed("not-authorized", "The managed identity endpoint refused: " + a.error +
                                      (a.description.empty() ? "" : " - " + clip_utf8(a.description, 200)),
                c.client_id.empty() ? "Assign a system-assigned managed identity to this machine in the Azure portal (Identity)."
                                    : "Check the Client Id of the user-assigned identity, and that it is assigned to this machine.");
}

}  // namespace tracklight::firmware
