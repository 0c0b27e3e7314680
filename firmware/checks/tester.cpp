#include "firmware/checks/tester.hpp"

#include <cctype>
#include <cstdio>
#include <exception>

#include "firmware/model/connection_rules.hpp"
#include "firmware/model/url.hpp"
#include "firmware/signin/signin.hpp"
#include "platform/crypto.hpp"
#include "platform/memory.hpp"

namespace tracklight::firmware {
namespace {

using platform::HttpsTarget;

std::string year_of(int64_t wall_s) {
  return std::to_string(1970 + wall_s / 31556952);
}

// Where a failed connection attempt stopped, and what a person can do about it.
struct NetFailure {
  const char* check;
  const char* hint;
};

NetFailure classify(ErrorCode code, const std::string& op) {
  switch (code) {
    case ErrorCode::DnsFailed: return {"dns", "Check the server name for typos, and that this device has working DNS."};
    case ErrorCode::ConnectRefused: return {"tcp", "Nothing accepts connections on that port: check the port in the URL and that the server is up."};
    case ErrorCode::ConnectFailed: return {"tcp", "Check the network route to the server (firewall, VPN, proxy setting)."};
    case ErrorCode::ProxyAuthRequired: return {"tcp", "Enter or correct the Proxy Username and Proxy Password."};
    case ErrorCode::ProxyFailed: return {"tcp", "Check the Web Proxy address, and that the proxy allows HTTPS (CONNECT) to this server."};
    case ErrorCode::TlsVersion: return {"tls", "Ask the server's administrator to enable TLS 1.2 or newer."};
    case ErrorCode::TlsNothingInCommon: return {"tls", "tracklight speaks TLS 1.3 and 1.2 with key exchange over x25519, P-256 or P-384, AES-GCM or ChaCha20-Poly1305, and RSA or ECDSA (P-256, P-384) certificates. Ask the server's administrator to enable one of each; a server that offers only TLS 1.1 or older can also answer this way. Credentials were not sent."};
    case ErrorCode::CertMalformed: return {"tls", "The certificate the server sent is damaged or does not follow the X.509 standard: its administrator must replace it. Credentials were not sent."};
    case ErrorCode::CertExpired: return {"tls", "The server's administrator must renew its certificate. Credentials were not sent."};
    case ErrorCode::CertNotYetValid: return {"tls", "Check this device's date and time; if they are right, the server's certificate was issued for the future. Credentials were not sent."};
    case ErrorCode::HostnameMismatch: return {"tls", "Use the host name the certificate was issued for in the Server URL. Credentials were not sent."};
    case ErrorCode::CertUntrusted: return {"tls", "If the server uses a private CA, paste that CA's certificate into CA certificate. Credentials were not sent."};
    case ErrorCode::CertSelfSigned: return {"tls", "If you trust this server, compare the fingerprint with the one its administrator gives you, then paste the server's certificate into CA certificate. Credentials were not sent."};
    case ErrorCode::CertChainIncomplete: return {"tls", "The server's administrator should configure the full certificate chain (the server's certificate followed by its intermediate certificates). If the issuer is your organisation's own CA, paste that CA's certificate into CA certificate instead. Credentials were not sent."};
    case ErrorCode::Timeout:
      if (op == "connect") return {"tcp", "The server did not answer: check the address, port, firewall or proxy."};
      if (op == "proxy") return {"tcp", "The proxy stopped answering: check the Web Proxy address, or try again."};
      return {"tls", "The server accepted the connection but stopped answering; try again, or check the server."};
    default: return {"tls", "Check the Server URL and try again."};
  }
}

void connection_failed(Report& r, const Error& e, const std::string& host, int64_t ms) {
  NetFailure f = classify(e.code, e.op);
  auto add = [&](const char* id, const char* result, std::string msg, std::string hint) {
    Check c;
    c.id = id;
    c.result = result;
    c.message = std::move(msg);
    c.hint = std::move(hint);
    r.checks.push_back(c);
  };
  const std::string which = f.check;
  if (which != "dns") add("dns", "pass", "Resolved " + host, "");
  if (which == "tls") add("tcp", "pass", "Connected", "");
  add(f.check, "fail", (which == "tls" ? "TLS: " : "") + e.detail, f.hint);
  r.checks.back().ms = ms;
  r.status = "interrupted";
}

std::string tls_summary(const platform::TlsPeer& peer) {
  std::string names;
  for (const auto& n : peer.names) names += (names.empty() ? "" : ", ") + n;
  return peer.version + " (" + peer.cipher + "); certificate for " + (names.empty() ? peer.subject : names) +
         ", valid until " + peer.valid_to;
}

}  // namespace

Check& Probe::add(const std::string& id, const std::string& result, const std::string& message,
                  const std::string& hint, int64_t ms) {
  Check c;
  c.id = id;
  c.result = result;
  c.message = message;
  c.hint = hint;
  c.ms = ms;
  report.checks.push_back(c);
  return report.checks.back();
}

bool Probe::failed() const {
  for (const auto& c : report.checks)
    if (c.result == "fail") return true;
  return false;
}

bool Probe::get(const std::string& id, const std::string& path, platform::HttpsResponse& out) {
  int64_t t0 = clock.monotonic_ms();
  auto res = conn.get(path, auth);
  if (!res) {
    const Error& e = res.error();
    std::string hint = e.code == ErrorCode::Timeout ? "The server is too slow or stalled; try again later."
                       : e.code == ErrorCode::ResponseTooLarge ? "Check the Server URL: this does not look like the tracker's API."
                                                                 : "Check the server and the network, then try again.";
    add(id, "fail", e.detail, hint, clock.monotonic_ms() - t0);
    report.status = "interrupted";
    return false;
  }
  out = std::move(*res);
  return true;
}

bool Probe::decoded(const std::string& id, const std::string& path, const JsonDoc& doc) {
  if (!doc.failed()) return true;
  unexpected(id, path, doc, 200);
  return false;
}

void Probe::unexpected(const std::string& id, const std::string& path, const JsonDoc& doc, int status,
                       const char* missing) {
  std::string what = unexpected_answer(path, doc);  // names the field when a type was wrong
  what[0] = 'U';
  if (!doc.failed())
    what += status != 200   ? " (HTTP " + std::to_string(status) + ")"
            : !doc.parsed() ? std::string(" (not JSON)")
                            : std::string(": it has no ") + missing;
  add(id, "fail", what,
      "The server does not answer as the tracker's API documents: check the Server URL (a proxy or another "
      "service may be answering); if it is right, the tracker's answer is the problem.");
  report.status = "interrupted";
}

std::string retry_after_text(const platform::HttpsResponse& r) {
  const std::string* ra = r.header("Retry-After");
  return ra ? " (it asks to wait " + *ra + " s)" : "";
}

bool common_http_outcome(Probe& p, const std::string& id, const platform::HttpsResponse& r) {
  if (r.status == 429) {
    p.add(id, "fail", "The server is rate-limiting requests" + retry_after_text(r), "Wait and test again.");
    p.report.status = "interrupted";
    return false;
  }
  if (r.status >= 500) {
    p.add(id, "fail", "The server answered " + std::to_string(r.status) + retry_after_text(r),
          "The tracker has a problem of its own; try again later.");
    p.report.status = "interrupted";
    return false;
  }
  if (r.status >= 300 && r.status < 400) {
    const std::string* loc = r.header("Location");
    p.add(id, "fail", "The server redirects to " + (loc ? *loc : std::string("another address")) + "; the redirect was not followed",
          "Use the address the server redirects to as the Server URL (credentials are never sent across a redirect).");
    p.report.status = "interrupted";
    return false;
  }
  return true;
}

namespace {

// `refused`: in: the Authorization value the tracker refused in a first run ("" the first time);
// out: the one this run sent, when the tracker refused a kept token (the caller then runs the
// checks once more, and a new token replaces it). Both runs end by `deadline_ms`.
Report run_checks(const Connection& c, TrackerEnv& env, bool network, int64_t deadline_ms, std::string& refused) {
  const int64_t start = env.clock.monotonic_ms();
  Report r;
  r.checks.push_back(field_check(validate_connection(c)));
  auto finish = [&]() -> Report {
    r.elapsed_ms = env.clock.monotonic_ms() - start;
    return r;
  };
  if (r.checks.back().result == "fail") {
    r.status = "invalid";
    return finish();
  }
  if (!network) {
    r.ok = true;
    r.status = "not-verified";
    return finish();
  }
  const int64_t wall = env.clock.wall_time_s();
  if (!platform::wall_clock_plausible(wall)) {
    Check k;
    k.id = "clock";
    k.result = "fail";
    k.message = "The system clock is not set (it says " + year_of(wall) + ")";
    k.hint = "Enable network time (timedatectl set-ntp true) or set the date; certificates cannot be checked until then.";
    r.checks.push_back(k);
    r.status = "interrupted";
    return finish();
  }
  r.checks.push_back(Check{"clock", "pass", "The system clock is plausible", "", 0, {}});
  SigninResult signin;
  if (needs_signin(c)) {
    signin = authorize(c, env, deadline_ms, refused);
    r.checks.push_back(Check{"signin", signin.ok ? "pass" : "fail",
                             signin.ok ? std::string(signin.from_cache ? "Using the token from " : "Got a token from ") +
                                             (c.auth == "managed-identity" ? "the managed identity"
                                              : c.provider == "azure-devops" ? "Microsoft Entra ID"
                                              : c.cloud_id.empty()          ? "Jira"
                                                                            : "Atlassian") +
                                             (c.signed_in_as.empty() ? "" : " for " + c.signed_in_as)
                                       : signin.message,
                             signin.hint, signin.ms, {}});
    if (!signin.ok) {
      r.status = signin.status;
      return finish();
    }
  }
  TrackerEndpoint ep = tracker_endpoint(c, signin.authorization, signin.api_url);
  HttpsTarget& target = ep.target;
  const std::string& base_path = ep.base_path;
  target.deadline_ms = deadline_ms;
  target.cancel = env.cancel;
  int64_t t0 = env.clock.monotonic_ms();
  auto conn = env.https.open(target);
  if (!conn) {
    connection_failed(r, conn.error(), target.host, env.clock.monotonic_ms() - t0);
    platform::return_idle_memory();
    return finish();
  }
  r.checks.push_back(Check{"dns", "pass", "Resolved " + target.host, "", 0, {}});
  r.checks.push_back(Check{"tcp", "pass",
                           target.proxy_host.empty() ? "Connected to port " + std::to_string(target.port)
                                                     : "Connected through the proxy " + target.proxy_host,
                           "", 0, {}});
  r.checks.push_back(Check{"tls", "pass", tls_summary((*conn)->peer()), "", env.clock.monotonic_ms() - t0, {}});
  r.server["tls"] = {{"version", (*conn)->peer().version}, {"issuer", (*conn)->peer().issuer},
                     {"valid_to", (*conn)->peer().valid_to}};
  Probe p{r, env.clock, **conn, ep.headers, target.host};
  if (c.provider == "jira") run_jira_checks(c, p, base_path);
  else run_azure_checks(c, p, base_path);
  refused = p.refused && signin.from_cache ? signin.authorization : "";
  if (!p.failed()) {
    r.ok = true;
    r.status = "authorized";
  } else if (r.status.empty()) {
    r.status = "not-authorized";
  }
  conn->reset();  // closes the connection and frees the CA chain before the memory is returned
  platform::return_idle_memory();
  return finish();
}

// The report of a Test that a fault inside the agent stopped (out of memory, a bug): whoever
// runs Tests (an HTTP worker, the monitor thread, `tracklight test`) gets an answer and goes on.
Report stopped_by(const std::string& why) {
  Report r;
  r.status = "interrupted";
  r.checks.push_back(Check{"internal", "fail", "The Test stopped inside the agent: " + why,
                           "Try again; if it keeps happening, report this message as a bug.", 0, {}});
  return r;
}

}  // namespace

Report run_test(const Connection& c, TrackerEnv& env, bool network) {
  try {
    const int64_t start = env.clock.monotonic_ms();
    std::string refused;
    Report r = run_checks(c, env, network, start + env.timeout_ms, refused);
    if (!refused.empty()) {
      r = run_checks(c, env, network, start + env.timeout_ms, refused);
      r.elapsed_ms = env.clock.monotonic_ms() - start;
    }
    return r;
  } catch (const std::exception& e) {
    return stopped_by(e.what());
  } catch (...) {
    return stopped_by("an unknown error");
  }
}

}  // namespace tracklight::firmware
