#include "firmware/metrics/upstream_counts.hpp"

namespace tracklight::firmware {
namespace {

// Wraps one open connection: each GET or POST is a request; a transport error or a failing
// status is a failure of its kind.
class CountingConnection : public platform::HttpsConnection {
 public:
  CountingConnection(std::unique_ptr<platform::HttpsConnection> inner, std::shared_ptr<UpstreamCounts> counts,
                     UpstreamSource source)
      : inner_(std::move(inner)), counts_(std::move(counts)), source_(source) {}

  Result<platform::HttpsResponse> get(const std::string& path, const platform::HeaderList& headers) override {
    return count(inner_->get(path, headers));
  }
  Result<platform::HttpsResponse> post(const std::string& path, const platform::HeaderList& headers,
                                       const std::string& body, const std::string& content_type) override {
    return count(inner_->post(path, headers, body, content_type));
  }
  const platform::TlsPeer& peer() const override { return inner_->peer(); }

 private:
  Result<platform::HttpsResponse> count(Result<platform::HttpsResponse> res) {
    counts_->request(source_);
    UpstreamFailure kind;
    if (!res) counts_->failure(source_, upstream_failure_of(res.error().code));
    else if (upstream_failure_of(res->status, kind)) counts_->failure(source_, kind);
    return res;
  }

  std::unique_ptr<platform::HttpsConnection> inner_;
  std::shared_ptr<UpstreamCounts> counts_;
  UpstreamSource source_;
};

}  // namespace

const char* upstream_source_name(UpstreamSource s) { return s == UpstreamSource::Check ? "check" : "board"; }

const char* upstream_failure_name(UpstreamFailure f) {
  static const char* const kNames[kUpstreamFailures] = {"dns",      "connect", "tls",          "timeout",  "bad_answer",
                                                         "redirect", "refused", "rate_limited", "http_4xx", "http_5xx"};
  return kNames[static_cast<size_t>(f)];
}

// The same grouping as the Test's dns / tcp / tls checks (checks/tester.cpp), plus the
// timeouts, which a person reads differently from a refusal.
UpstreamFailure upstream_failure_of(ErrorCode code) {
  switch (code) {
    case ErrorCode::DnsFailed: return UpstreamFailure::Dns;
    case ErrorCode::ConnectRefused:
    case ErrorCode::ConnectFailed:
    case ErrorCode::ProxyFailed:
    case ErrorCode::ProxyAuthRequired: return UpstreamFailure::Connect;
    case ErrorCode::Timeout: return UpstreamFailure::Timeout;
    case ErrorCode::BadResponse:
    case ErrorCode::ResponseTooLarge: return UpstreamFailure::BadAnswer;
    case ErrorCode::TlsHandshake:
    case ErrorCode::TlsVersion:
    case ErrorCode::TlsNothingInCommon:
    case ErrorCode::CertUntrusted:
    case ErrorCode::CertSelfSigned:
    case ErrorCode::CertChainIncomplete:
    case ErrorCode::CertMalformed:
    case ErrorCode::CertExpired:
    case ErrorCode::CertNotYetValid:
    case ErrorCode::HostnameMismatch: return UpstreamFailure::Tls;
    default: return UpstreamFailure::Connect;  // a socket error (IoError) while talking
  }
}

bool upstream_failure_of(int status, UpstreamFailure& out) {
  // 203 is how Azure DevOps answers a PAT it no longer accepts (reference/tracker-apis.md).
  if (status == 401 || status == 403 || status == 203) out = UpstreamFailure::Refused;
  else if (status == 429) out = UpstreamFailure::RateLimited;
  else if (status >= 500) out = UpstreamFailure::Http5xx;
  else if (status >= 400) out = UpstreamFailure::Http4xx;
  else if (status >= 300) out = UpstreamFailure::Redirect;
  else return false;
  return true;
}

std::shared_ptr<UpstreamCounts> UpstreamStats::counts(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = by_id_[id];
  if (!slot) slot = std::make_shared<UpstreamCounts>();
  return slot;
}

std::shared_ptr<const UpstreamCounts> UpstreamStats::find(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

void UpstreamStats::retain(const std::vector<Connection>& connections) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = by_id_.begin(); it != by_id_.end();) {
    bool kept = false;
    for (const auto& c : connections) kept = kept || c.id == it->first;
    it = kept ? std::next(it) : by_id_.erase(it);
  }
}

Result<std::unique_ptr<platform::HttpsConnection>> CountingConnector::open(const platform::HttpsTarget& target) {
  auto conn = inner_.open(target);
  if (!counts_) return conn;
  if (!conn) {
    // The request that was about to be sent: counted, so failures never outnumber requests.
    counts_->request(source_);
    counts_->failure(source_, upstream_failure_of(conn.error().code));
    return conn;
  }
  return std::unique_ptr<platform::HttpsConnection>(
      std::make_unique<CountingConnection>(std::move(*conn), counts_, source_));
}

}  // namespace tracklight::firmware
