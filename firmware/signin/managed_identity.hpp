// Azure managed identity (SPEC section 1): a token for Azure DevOps from the machine itself,
// without any secret in the settings.
//
//   Azure VM    IMDS at http://169.254.169.254 (AZURE_POD_IDENTITY_AUTHORITY_HOST replaces it),
//               with `Metadata: true`; a user-assigned identity is picked by its client id.
//   Azure Arc   when IDENTITY_ENDPOINT and IMDS_ENDPOINT are both set (as the Azure SDKs and MSAL
//               decide), or the Arc agent is installed: the local endpoint answers 401 naming a
//               key file in Arc's token folder; the file's content (at most 4096 bytes, readable
//               by root and the himds group) is sent back as Basic credentials.
//
// Both speak plain HTTP, so the endpoint must be a loopback address or IMDS's 169.254.169.254: a
// token is never sent in the clear across a network.
//
// The token is the machine's own credential, not one the page's admin typed: it goes only to
// Azure DevOps Services (dev.azure.com, *.visualstudio.com) verified by the system's CAs, or to a
// server the operator named on the command line (--managed-identity-server). Otherwise whoever
// can edit a connection could send it to a server of their own.
#pragma once
#include <cstdint>
#include <string>
#include <vector>
#include "firmware/model/connection.hpp"
#include "firmware/signin/access_tokens.hpp"
#include "platform/fs.hpp"

namespace tracklight::firmware {

struct TrackerEnv;

// Read from the agent's environment by main (firmware never asks the OS itself).
struct ManagedIdentitySettings {
  std::string identity_endpoint;  // IDENTITY_ENDPOINT
  std::string imds_endpoint;      // IMDS_ENDPOINT
  std::string imds_host;          // AZURE_POD_IDENTITY_AUTHORITY_HOST
  bool arc_installed = false;     // /opt/azcmagent/bin/himds exists
  std::string arc_token_dir = "/var/opt/azcmagent/tokens";
  std::vector<std::string> allowed_servers;  // --managed-identity-server: origins besides Azure DevOps Services
};

// "" when a managed identity's token may go to `c`'s server, else why not.
std::string managed_identity_refusal(const Connection& c, const ManagedIdentitySettings& s);

// The token, or why there is none and what to do.
TokenFetch managed_identity_token(const Connection& c, TrackerEnv& env, int64_t deadline_ms);

// The key file named by Arc's challenge (`WWW-Authenticate: Basic realm=<path>`), when it is a
// plain file name ending in ".key" directly inside `token_dir`; "" otherwise.
std::string arc_key_path(const std::string& www_authenticate, const std::string& token_dir);

}  // namespace tracklight::firmware
