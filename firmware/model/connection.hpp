// A tracker connection: the settings a person enters in the Task Tracking dialog. A plain value;
// secrets live in it in clear and must only leave through the sealing config codec.
#pragma once
#include <string>
#include <vector>

namespace tracklight::firmware {

constexpr const char* kDefaultAuthorityHost = "https://login.microsoftonline.com";  // Entra ID

struct HeaderEntry {
  std::string name;
  std::string value;  // a secret (service tokens)
};

struct BoardSettings {
  bool enabled = false;
  int interval_s = 60;
  std::vector<std::string> pipelines;  // definition names; empty = all
  std::string branch;
  std::string jql;
  int max_issues = 10;
};

struct Connection {
  std::string id;
  std::string name;
  std::string provider;  // "jira" | "azure-devops"
  std::string server_url;
  std::string auth;
  std::string username;
  std::string token_expires;  // YYYY-MM-DD or empty
  std::string proxy_url;
  std::string proxy_username;
  std::vector<HeaderEntry> headers;
  std::string ca_cert;
  std::string collection;
  std::string project;
  std::string tenant_id;
  std::string client_id;
  std::string authority_host;  // Entra ID; empty = https://login.microsoftonline.com
  // The account an interactive sign-in (device code) was completed with, as the identity
  // provider named it; set by the sign-in, never by a request.
  std::string signed_in_as;
  // Jira OAuth 2.0: the callback URL registered with the app (the device page's /oauth/callback,
  // or a localhost address for the paste-back path), and, on Jira Cloud, the site the sign-in
  // reaches through Atlassian's API gateway (set by the sign-in with the refresh token).
  std::string redirect_uri;
  std::string cloud_id;
  bool use_for_tfvc = false;
  bool active = true;
  int check_interval_s = 300;
  BoardSettings board;
  // Secrets: empty means none stored.
  std::string password, api_key, token, client_secret, proxy_password;
  // From an interactive sign-in only, never typed or returned; replaced when it rotates.
  std::string refresh_token;
  // Outcome of the last Connect ("not-verified" when saved without verification).
  std::string saved_status = "not-verified";
  // Added or changed by an import and not Connected since: saved as not-verified (an import never
  // marks a connection authorized), yet the monitor checks it as usual.
  bool imported = false;
  // Keys this version does not know, kept as they were so a newer file loses nothing.
  std::vector<std::pair<std::string, std::string>> unknown;
};

struct StringField {
  const char* name;
  std::string Connection::*member;
  size_t max_len;
};
struct SecretField {
  const char* name;
  std::string Connection::*member;
};
struct IntField {
  const char* name;
  int Connection::*member;
  int min, max;
};
struct BoolField {
  const char* name;
  bool Connection::*member;
};

// The field tables the JSON API, the flat file and the validators share.
extern const StringField kStringFields[];
extern const size_t kStringFieldCount;
extern const SecretField kSecretFields[];
extern const size_t kSecretFieldCount;
extern const IntField kIntFields[];
extern const size_t kIntFieldCount;
extern const BoolField kBoolFields[];
extern const size_t kBoolFieldCount;

constexpr size_t kMaxHeaders = 16;
constexpr size_t kMaxSecretLen = 4096;
constexpr size_t kMaxHeaderNameLen = 64;
constexpr size_t kMaxHeaderValueLen = 4096;
constexpr size_t kMaxPipelines = 50;
constexpr size_t kMaxPipelineNameLen = 256;
constexpr size_t kMaxConnections = 32;

bool valid_connection_id(const std::string& id);
bool is_secret_field(const std::string& name);
// A field an interactive sign-in sets (the refresh token, the account, the Jira Cloud site):
// never set by a request or an import, never exported.
bool from_signin(const std::string& name);
// "inactive" when switched off, else the status saved with the last Connect.
std::string effective_status(const Connection& c);
// A SHA-256 digest of everything the background work depends on, secrets included, to notice a
// change of settings without keeping a second plaintext copy of every secret.
std::string settings_fingerprint(const Connection& c, bool with_board);

}  // namespace tracklight::firmware
