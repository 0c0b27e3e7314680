// Outbound HTTPS per connection, for GET /metrics: how many requests the monitor's checks and
// the board's polls sent to the tracker, and why the ones that failed did.
//
// What counts as one request: every GET, and every attempt to open a connection that failed
// before a GET could be sent (DNS, TCP, proxy, TLS). So failures never exceed requests. A failure
// is counted once, by the first thing that went wrong:
//
//   dns, connect (TCP or the proxy), tls (handshake or certificate), timeout  -- the ErrorCode
//   bad_answer    the answer was not readable HTTP or was larger than the limits
//   redirect      3xx (never followed)
//   refused       401, 403, or Azure DevOps' 203 (credentials no longer work)
//   rate_limited  429
//   http_4xx, http_5xx  any other status from 400 up
//
// These are the transport's and the status line's verdicts; a 200 whose JSON the checks cannot
// read is counted as a request, not a failure (the check reports it). A Test run from the page
// is not counted: only the background work that keeps running is.
//
// Thread-safety: counters are atomics, bumped by the monitor and board threads and read by the
// HTTP workers; the id -> counters map has its own small lock, taken once per check or fetch.
#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>
#include "firmware/model/connection.hpp"
#include "platform/https_client.hpp"

namespace tracklight::firmware {

enum class UpstreamSource { Check, Board };
constexpr size_t kUpstreamSources = 2;

enum class UpstreamFailure { Dns, Connect, Tls, Timeout, BadAnswer, Redirect, Refused, RateLimited, Http4xx, Http5xx };
constexpr size_t kUpstreamFailures = 10;

const char* upstream_source_name(UpstreamSource s);    // "check", "board"
const char* upstream_failure_name(UpstreamFailure f);  // "dns", ... as in the table above

UpstreamFailure upstream_failure_of(ErrorCode code);
// False when the status is a success (2xx other than 203).
bool upstream_failure_of(int http_status, UpstreamFailure& out);

struct UpstreamCounts {
  std::atomic<uint64_t> requests[kUpstreamSources] = {};
  std::atomic<uint64_t> failures[kUpstreamSources][kUpstreamFailures] = {};

  void request(UpstreamSource s) { requests[static_cast<size_t>(s)].fetch_add(1, std::memory_order_relaxed); }
  void failure(UpstreamSource s, UpstreamFailure f) {
    failures[static_cast<size_t>(s)][static_cast<size_t>(f)].fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t requests_of(UpstreamSource s) const { return requests[static_cast<size_t>(s)].load(std::memory_order_relaxed); }
  uint64_t failures_of(UpstreamSource s, UpstreamFailure f) const {
    return failures[static_cast<size_t>(s)][static_cast<size_t>(f)].load(std::memory_order_relaxed);
  }
};

// The counters of every connection, by id. A check or fetch holds its connection's counters
// (shared_ptr) while it runs, so dropping a deleted connection never pulls them from under it.
class UpstreamStats {
 public:
  std::shared_ptr<UpstreamCounts> counts(const std::string& id);  // made on first use
  std::shared_ptr<const UpstreamCounts> find(const std::string& id) const;  // nullptr: nothing sent yet
  // Forgets connections that no longer exist: their series leave /metrics, and an id used again
  // later starts from zero (a counter reset, which Prometheus' rate() handles).
  void retain(const std::vector<Connection>& connections);

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<UpstreamCounts>> by_id_;
};

// An HttpsConnector that counts what goes through it into one connection's counters and passes
// everything else on unchanged. With `counts` null it only passes on.
class CountingConnector : public platform::HttpsConnector {
 public:
  CountingConnector(platform::HttpsConnector& inner, std::shared_ptr<UpstreamCounts> counts, UpstreamSource source)
      : inner_(inner), counts_(std::move(counts)), source_(source) {}
  Result<std::unique_ptr<platform::HttpsConnection>> open(const platform::HttpsTarget& target) override;

 private:
  platform::HttpsConnector& inner_;
  std::shared_ptr<UpstreamCounts> counts_;
  UpstreamSource source_;
};

}  // namespace tracklight::firmware
