// Microsoft Entra ID for Azure DevOps (SPEC section 1; reference/tracker-apis.md "Entra ID
// tokens", "Client credentials"): the v2.0 token endpoint of the connection's tenant, the Azure
// DevOps resource, and what Entra's error codes mean to the person who must fix them.
#pragma once
#include <cstdint>
#include <string>
#include "firmware/model/connection.hpp"
#include "firmware/signin/access_tokens.hpp"
#include "firmware/signin/token_answer.hpp"

namespace tracklight::firmware {

struct TrackerEnv;

constexpr const char* kAzureDevOpsResource = "499b84ac-1321-427f-aa17-267ca6975798";
constexpr const char* kAzureDevOpsScope = "499b84ac-1321-427f-aa17-267ca6975798/.default";

// "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/" (authority host of the connection).
std::string entra_endpoint_base(const Connection& c);

// The client-credentials grant of a service principal (client secret).
TokenFetch entra_client_credentials(const Connection& c, TrackerEnv& env, int64_t deadline_ms);

using EntraReply = TokenReply;
EntraReply ask_entra(const Connection& c, TrackerEnv& env, int64_t deadline_ms, const std::string& url,
                     const std::string& form);

// What an error answer from Entra means and what to do (AADSTS codes, 5xx and 429 retried).
TokenFetch entra_failure(const Connection& c, const TokenAnswer& a, int http_status);

// POSTs a form to `url` (an Entra endpoint of `c`) and reads the answer: the token, or what the
// refusal (or the failure to reach Entra at all) means and what to do.
TokenFetch post_form(const Connection& c, TrackerEnv& env, int64_t deadline_ms, const std::string& url,
                     const std::string& form);

}  // namespace tracklight::firmware
