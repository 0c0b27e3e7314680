// Test (SPEC section 3): field validation, system clock, DNS/TCP/TLS through platform's HTTPS
// connector, then the provider's own checks, each reported with its fix. Stops at the first
// failure that makes later checks meaningless. Credentials go out only after TLS verified the
// server; the whole Test ends by its deadline and says which step ran out of time.
#pragma once
#include <atomic>
#include <nlohmann/json.hpp>
#include <string>
#include "firmware/model/connection.hpp"
#include "firmware/model/report.hpp"
#include "firmware/tracker/endpoint.hpp"
#include "firmware/tracker/json_read.hpp"
#include "platform/clock.hpp"
#include "platform/https_client.hpp"

namespace tracklight::firmware {

// Runs every check. With network=false only the fields are checked (Connect ?verify=false).
Report run_test(const Connection& c, TrackerEnv& env, bool network = true);

// --- shared by the provider checks ---------------------------------------------------------
struct Probe {
  Report& report;
  platform::Clock& clock;
  platform::HttpsConnection& conn;
  platform::HeaderList auth;  // Authorization plus the connection's custom headers
  std::string host;
  bool refused = false;  // the tracker refused a token from a sign-in (it may have been revoked)
  Check& add(const std::string& id, const std::string& result, const std::string& message,
             const std::string& hint = "", int64_t ms = 0);
  // A GET; false when the transport failed, which is then already reported as failed check `id`.
  bool get(const std::string& id, const std::string& path, platform::HttpsResponse& out);
  // Reports check `id` as failed when the answer to `path` had a field of an unexpected type
  // (status interrupted: the settings may be right, the server answered what we cannot read).
  // Returns false when it did.
  bool decoded(const std::string& id, const std::string& path, const JsonDoc& doc);
  // The same for an answer that is not what the endpoint documents: not JSON, another status,
  // or without the member `missing`.
  void unexpected(const std::string& id, const std::string& path, const JsonDoc& doc, int status,
                  const char* missing = "");
  bool failed() const;
};

std::string retry_after_text(const platform::HttpsResponse& r);
// Reports the answers every tracker gives the same way (5xx, 429, redirects, HTML). Returns
// false when it reported a failure.
bool common_http_outcome(Probe& p, const std::string& id, const platform::HttpsResponse& r);

void run_jira_checks(const Connection& c, Probe& p, const std::string& base_path);
void run_azure_checks(const Connection& c, Probe& p, const std::string& base_path);

}  // namespace tracklight::firmware
