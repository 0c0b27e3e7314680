#include "firmware/model/connection_rules.hpp"
#include "firmware/model/text.hpp"
#include "firmware/model/url.hpp"

#include <cctype>

#include "platform/crypto.hpp"

namespace tracklight::firmware {
namespace {

struct AuthMethod {
  const char* provider;
  const char* auth;
  const char* secret;  // required secret field
  bool available;      // sign-in flow built in this version
  const char* label;
};

const AuthMethod kAuthMethods[] = {
    {"jira", "api-key", "api_key", true, "API key"},
    {"jira", "password", "password", true, "Password"},
    {"jira", "pat", "token", true, "Personal access token"},
    {"jira", "oauth2", "refresh_token", true, "OAuth 2.0"},
    {"jira", "oauth1", "", false, "OAuth 1.0a"},
    {"azure-devops", "pat", "token", true, "Personal access token"},
    {"azure-devops", "service-principal", "client_secret", true, "Service principal"},
    {"azure-devops", "device-code", "refresh_token", true, "Device code"},
    {"azure-devops", "managed-identity", "", true, "Managed identity"},
};

const AuthMethod* find_auth(const std::string& provider, const std::string& auth) {
  for (const auto& m : kAuthMethods)
    if (provider == m.provider && auth == m.auth) return &m;
  return nullptr;
}

// Header names we set ourselves or that would break the request framing.
const char* const kReservedHeaders[] = {"host", "authorization", "proxy-authorization", "content-length",
                                        "transfer-encoding", "connection", "upgrade", "te", "cookie"};

bool is_tchar(unsigned char c) {
  return std::isalnum(c) || std::string("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string::npos;
}

bool is_guid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

class Checker {
 public:
  explicit Checker(const Connection& c) : c_(c) {}
  std::vector<FieldError> run();

 private:
  void add(const std::string& field, const std::string& message) { errors_.push_back({field, message}); }
  void text_fields();
  void provider_and_auth();
  void server_url();
  void secrets();
  void proxy();
  void headers();
  void azure_fields();
  void jira_oauth2_fields();
  void numbers_and_board();

  const Connection& c_;
  std::vector<FieldError> errors_;
};

std::vector<FieldError> Checker::run() {
  if (!c_.id.empty() && !valid_connection_id(c_.id))
    add("id", "use 1-32 characters of a-z, 0-9 and '-', starting with a letter or digit");
  text_fields();
  provider_and_auth();
  server_url();
  secrets();
  proxy();
  headers();
  azure_fields();
  numbers_and_board();
  return errors_;
}

void Checker::text_fields() {
  for (size_t i = 0; i < kStringFieldCount; ++i) {
    const auto& f = kStringFields[i];
    const std::string& v = c_.*f.member;
    bool pem = f.member == &Connection::ca_cert;
    if (v.size() > f.max_len) add(f.name, "is longer than " + std::to_string(f.max_len) + " characters");
    else if (has_control(v, pem)) add(f.name, "must not contain control characters or line breaks");
  }
  if (c_.name.empty()) add("name", "give the connection a name, e.g. \"Team Jira\"");
  if (!c_.token_expires.empty() && !valid_date(c_.token_expires))
    add("token_expires", "use the form YYYY-MM-DD, e.g. 2027-03-31");
  if (!c_.ca_cert.empty() && !has_control(c_.ca_cert, true)) {
    auto n = platform::count_pem_certificates(c_.ca_cert);
    if (!n) add("ca_cert", "is not a PEM certificate (" + n.error().detail + "); paste the -----BEGIN CERTIFICATE----- block(s)");
  }
}

void Checker::provider_and_auth() {
  if (c_.provider == "rally") {
    add("provider", "Rally is not supported; tracklight connects to Jira or Azure DevOps");
    return;
  }
  if (c_.provider != "jira" && c_.provider != "azure-devops") {
    add("provider", "choose jira or azure-devops");
    return;
  }
  const AuthMethod* m = find_auth(c_.provider, c_.auth);
  if (!m) {
    add("auth", c_.provider == "jira" ? "choose one of api-key, password, pat, oauth2 (oauth1 is not available yet)"
                                      : "choose pat, service-principal, device-code or managed-identity");
  } else if (!m->available) {
    add("auth", std::string(m->label) + " sign-in is not available in this version yet; use " +
                    (c_.provider == "jira" ? "an API key (Cloud), OAuth 2.0, a password or a personal access token (Server/Data Center)"
                                           : "a personal access token, a service principal, a device code or a managed identity"));
  }
  bool needs_user = c_.provider == "jira" && (c_.auth == "api-key" || c_.auth == "password");
  if (needs_user && c_.username.empty())
    add("username", c_.auth == "api-key" ? "enter the email address of your Atlassian account"
                                         : "enter your Jira user name");
  if (c_.provider == "jira" && c_.auth == "api-key" && !c_.username.empty() &&
      c_.username.find('@') == std::string::npos)
    add("username", "Jira Cloud signs in with the account's email address (name@example.com)");
}

void Checker::server_url() {
  if (c_.server_url.empty()) {
    add("server_url", c_.provider == "azure-devops" ? "enter the server URL, e.g. https://dev.azure.com/your-org"
                                                    : "enter the server URL, e.g. https://your-company.atlassian.net");
    return;
  }
  Url u;
  std::string why = parse_url(c_.server_url, u);
  if (!why.empty()) return add("server_url", why);
  if (u.scheme != "https") return add("server_url", "must use https:// so that credentials travel encrypted");
  if (c_.provider == "azure-devops" && u.host == "dev.azure.com") {
    std::string org = u.path.size() > 1 ? u.path.substr(1, u.path.find('/', 1) - 1) : "";
    if (org.empty()) add("server_url", "add your organisation: https://dev.azure.com/your-org");
  }
}

void Checker::secrets() {
  for (size_t i = 0; i < kSecretFieldCount; ++i) {
    const std::string& v = c_.*kSecretFields[i].member;
    if (v.size() > kMaxSecretLen) add(kSecretFields[i].name, "is longer than 4096 characters");
    else if (has_control(v)) add(kSecretFields[i].name, "must not contain control characters or line breaks");
  }
  const char* need = required_secret(c_.provider, c_.auth);
  if (need && *need) {
    for (size_t i = 0; i < kSecretFieldCount; ++i) {
      if (std::string(need) == kSecretFields[i].name && (c_.*kSecretFields[i].member).empty())
        add(need, std::string(need) == "api_key" ? "enter the API token created at id.atlassian.com"
                  : std::string(need) == "token" ? "enter the personal access token"
                  : std::string(need) == "client_secret"
                      ? "enter the client secret's Value from the app registration > Certificates & secrets"
                  : std::string(need) == "refresh_token"
                      ? (c_.provider == "jira" ? "press Sign in and allow access on the page that opens"
                                               : "press Sign in and finish signing in with the code shown")
                      : "enter the password");
    }
  }
}

void Checker::proxy() {
  if (c_.proxy_url.empty()) {
    if (!c_.proxy_username.empty() || !c_.proxy_password.empty())
      add("proxy_url", "enter the proxy (http://host:port) that the proxy credentials are for");
    return;
  }
  Url u;
  std::string why = parse_url(c_.proxy_url, u);
  if (!why.empty()) return add("proxy_url", why);
  if (u.scheme != "http") return add("proxy_url", "use http://host:port (the tunnel to the server is still TLS)");
  if (!u.path.empty() && u.path != "/") add("proxy_url", "must be just http://host:port, without a path");
}

void Checker::headers() {
  if (c_.headers.size() > kMaxHeaders) add("headers", "at most 16 custom headers");
  for (size_t i = 0; i < c_.headers.size() && i < kMaxHeaders; ++i) {
    const auto& h = c_.headers[i];
    std::string f = "headers[" + std::to_string(i) + "]";
    bool name_ok = !h.name.empty() && h.name.size() <= kMaxHeaderNameLen;
    for (unsigned char ch : h.name) name_ok = name_ok && is_tchar(ch);
    if (!name_ok) add(f + ".name", "use 1-64 letters, digits and - (e.g. X-Service-Token)");
    for (const char* r : kReservedHeaders)
      if (iequals(h.name, r)) add(f + ".name", h.name + " is set by the agent and cannot be overridden");
    for (size_t j = 0; j < i; ++j)
      if (iequals(h.name, c_.headers[j].name)) add(f + ".name", "appears twice");
    if (h.value.size() > kMaxHeaderValueLen) add(f + ".value", "is longer than 4096 characters");
    else if (has_control(h.value)) add(f + ".value", "must not contain line breaks or control characters");
  }
}

void Checker::azure_fields() {
  if (c_.collection.find_first_of("/?#\\") != std::string::npos)
    add("collection", "is a single name, e.g. DefaultCollection, without slashes");
  if (c_.provider != "jira" && !c_.client_id.empty() && !is_guid(c_.client_id))
    add("client_id", "must be a GUID like 00000000-0000-0000-0000-000000000000");
  // Entra also takes the tenant's domain name (contoso.onmicrosoft.com).
  // A person's sign-in may also go through "organizations" (any work account's own tenant).
  const bool any_org = c_.tenant_id == "organizations" && c_.auth == "device-code";
  if (!c_.tenant_id.empty() && !is_guid(c_.tenant_id) && !any_org &&
      !(valid_host_name(c_.tenant_id) && c_.tenant_id.find('.') != std::string::npos))
    add("tenant_id", "must be a GUID like 00000000-0000-0000-0000-000000000000 or a domain such as contoso.onmicrosoft.com");
  if (c_.provider == "jira") return jira_oauth2_fields();
  if (c_.provider != "azure-devops") return;
  if (c_.auth == "service-principal" || c_.auth == "device-code") {
    if (c_.tenant_id.empty()) add("tenant_id", "enter the Directory (tenant) ID from the app registration's Overview page");
    if (c_.client_id.empty()) add("client_id", "enter the Application (client) ID from the app registration's Overview page");
  }
  if (!c_.authority_host.empty()) {
    Url u;
    const std::string why = parse_url(c_.authority_host, u);
    if (!why.empty()) add("authority_host", why);
    else if (u.scheme != "https") add("authority_host", "must use https://, e.g. https://login.microsoftonline.us");
    else if (!u.path.empty() && u.path != "/") add("authority_host", "is the host only, e.g. https://login.microsoftonline.com, without a path");
  }
}

// Jira OAuth 2.0: the app's credentials (Atlassian's developer console, or the Data Center
// incoming link) and the callback registered with it.
void Checker::jira_oauth2_fields() {
  if (c_.auth != "oauth2") return;
  if (c_.client_id.empty()) add("client_id", "enter the app's Client ID (developer console > your app > Settings, or the incoming link)");
  else if (c_.client_id.find_first_of(" \t") != std::string::npos) add("client_id", "is one word, without spaces");
  if (c_.client_secret.empty()) add("client_secret", "enter the app's Secret (shown with the Client ID)");
  Url u;
  const std::string why = c_.redirect_uri.empty() ? "enter the callback URL registered with the app" : parse_url(c_.redirect_uri, u);
  const bool local = u.host == "localhost" || u.host == "127.0.0.1" || u.host == "::1";
  if (!why.empty()) add("redirect_uri", why);
  else if (u.scheme != "https" && !(u.scheme == "http" && local))
    add("redirect_uri", "must be https://, or http://localhost:PORT/... for pasting the address back");
}

void Checker::numbers_and_board() {
  for (size_t i = 0; i < kIntFieldCount; ++i) {
    int v = c_.*kIntFields[i].member;
    if (v < kIntFields[i].min || v > kIntFields[i].max)
      add(kIntFields[i].name, "must be from " + std::to_string(kIntFields[i].min) + " to " + std::to_string(kIntFields[i].max));
  }
  const auto& b = c_.board;
  if (b.interval_s < 15 || b.interval_s > 86400) add("board.interval_s", "must be from 15 to 86400 seconds");
  if (b.max_issues < 1 || b.max_issues > 50) add("board.max_issues", "must be from 1 to 50");
  if (b.pipelines.size() > kMaxPipelines) add("board.pipelines", "at most 50 pipeline names");
  for (size_t i = 0; i < b.pipelines.size() && i < kMaxPipelines; ++i) {
    const std::string field = "board.pipelines[" + std::to_string(i) + "]";
    if (b.pipelines[i].empty() || b.pipelines[i].size() > kMaxPipelineNameLen || has_control(b.pipelines[i])) {
      add(field, "must be 1-256 characters without control characters");
      continue;
    }
    // Each name is one tile; the same name twice would be one pipeline shown twice.
    for (size_t j = 0; j < i; ++j)
      if (b.pipelines[j] == b.pipelines[i]) {
        add(field, "repeats board.pipelines[" + std::to_string(j) + "] (" + b.pipelines[i] + "): list each pipeline once");
        break;
      }
  }
  if (b.branch.size() > 256 || has_control(b.branch)) add("board.branch", "must be at most 256 characters on one line");
  if (b.jql.size() > 2048 || has_control(b.jql)) add("board.jql", "must be at most 2048 characters on one line");
}

}  // namespace

std::vector<FieldError> validate_connection(const Connection& c) { return Checker(c).run(); }

bool auth_known(const std::string& provider, const std::string& auth) { return find_auth(provider, auth) != nullptr; }

bool auth_available(const std::string& provider, const std::string& auth) {
  const AuthMethod* m = find_auth(provider, auth);
  return m && m->available;
}

bool server_secrets_may_follow(const Connection& edited, const Connection& stored) {
  if (!same_origin(edited.server_url, stored.server_url)) return false;
  // The client secret (and, later, refresh tokens) goes to the Entra authority of the methods
  // that sign in there.
  auto authority = [](const Connection& c) { return c.authority_host.empty() ? std::string(kDefaultAuthorityHost) : c.authority_host; };
  const bool entra = edited.provider == "azure-devops" && (edited.auth == "service-principal" || edited.auth == "device-code");
  if (entra && !same_origin(authority(edited), authority(stored))) return false;
  // The page sends the PEM trimmed; a file may end it with a line break.
  auto core = [](const std::string& pem) {
    const size_t b = pem.find_first_not_of(" \t\r\n"), e = pem.find_last_not_of(" \t\r\n");
    return b == std::string::npos ? std::string() : pem.substr(b, e - b + 1);
  };
  return core(edited.ca_cert).empty() || core(edited.ca_cert) == core(stored.ca_cert);
}

const char* required_secret(const std::string& provider, const std::string& auth) {
  const AuthMethod* m = find_auth(provider, auth);
  return m ? m->secret : "";
}

bool lacks_sign_in_secret(const Connection& c) {
  const std::string need = required_secret(c.provider, c.auth);
  for (size_t i = 0; !need.empty() && i < kSecretFieldCount; ++i)
    if (need == kSecretFields[i].name) return (c.*kSecretFields[i].member).empty();
  return false;
}

bool keeps_refresh_token(const Connection& c) {
  return (c.provider == "azure-devops" && c.auth == "device-code") || (c.provider == "jira" && c.auth == "oauth2");
}

bool valid_date(const std::string& d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (d[i] < '0' || d[i] > '9') return false;
  int y = std::stoi(d.substr(0, 4)), m = std::stoi(d.substr(5, 2)), day = std::stoi(d.substr(8, 2));
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 2000 || m < 1 || m > 12 || day < 1) return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return day <= kDays[m - 1] + (m == 2 && leap ? 1 : 0);
}

int64_t date_days(const std::string& d) {
  int y = std::stoi(d.substr(0, 4));
  const int m = std::stoi(d.substr(5, 2)), day = std::stoi(d.substr(8, 2));
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

}  // namespace tracklight::firmware
