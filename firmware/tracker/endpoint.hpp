// Where a connection points and how every request to it is authenticated: one place, used by
// Test, the monitor and the board, so all three send the same headers to the same host.
#pragma once
#include <atomic>
#include <cstdint>
#include <string>
#include "firmware/model/connection.hpp"
#include "platform/clock.hpp"
#include "platform/https_client.hpp"

namespace tracklight::firmware {

struct SigninContext;  // firmware/signin/signin.hpp

// What a conversation with a tracker needs: a clock for its deadline, the HTTPS connector, and
// a flag that ends it early (shutdown).
struct TrackerEnv {
  platform::Clock& clock;
  platform::HttpsConnector& https;
  int64_t timeout_ms = 20000;
  const std::atomic<bool>* cancel = nullptr;  // set: the conversation ends early (shutdown)
  SigninContext* signin = nullptr;  // kept tokens and managed-identity settings; null: none kept
  // Where sign-in services (Entra ID, IMDS) are asked, when not through `https`: the monitor and
  // the board count their requests to the tracker (GET /metrics), and a sign-in is not one.
  platform::HttpsConnector* signin_https = nullptr;
  platform::HttpsConnector& signin_connector() { return signin_https ? *signin_https : https; }
};

// Where a connection's settings point and what every request to it carries: Authorization,
// Accept, for Azure DevOps X-TFS-FedAuthRedirect: Suppress (a refused credential then answers
// 401, not a redirect to a sign-in page), and the connection's custom headers. The fields must
// have passed validation.
struct TrackerEndpoint {
  platform::HttpsTarget target;
  std::string base_path;  // the Server URL's path without a trailing '/'
  platform::HeaderList headers;
};
// `authorization`: the header value a sign-in produced (firmware/signin/signin.hpp); empty for
// the methods whose credentials are the settings themselves (API key, password, PAT).
// `api_url`: where the sign-in says the API is (Jira Cloud OAuth 2.0: Atlassian's gateway, which
// gets no custom header: those are secrets of the server).
TrackerEndpoint tracker_endpoint(const Connection& c, const std::string& authorization = "", const std::string& api_url = "");
// Where `url` (a sign-in service of `c`, e.g. its Entra authority) is reached: with the
// connection's proxy and CA certificate, like the tracker itself. `url` must parse.
platform::HttpsTarget service_target(const Connection& c, const std::string& url, std::string* path = nullptr);


// An Azure DevOps Server URL's collection path ("/{org}" on dev.azure.com), or "" with `why`
// set when the Server URL does not parse.
std::string azure_collection_path(const Connection& c, std::string& why);

}  // namespace tracklight::firmware
