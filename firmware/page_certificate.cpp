#include "firmware/page_certificate.hpp"

#include "firmware/model/url.hpp"

namespace tracklight::firmware {

PageCertificate::PageCertificate(PageCertificateOptions opts, platform::Fs& fs, platform::Clock& clock,
                                 platform::Logger& log, std::function<MachineNames()> machine)
    : o_(std::move(opts)), fs_(fs), clock_(clock), log_(log), machine_(std::move(machine)) {}

Result<platform::TlsIdentity> PageCertificate::read_or_make(const MachineNames& m) {
  if (!o_.cert_file.empty()) return platform::tls_identity_from_files(fs_, o_.cert_file, o_.key_file);
  std::vector<std::string> names = {"localhost"};
  if (valid_host_name(m.host) && m.host != "localhost") names.insert(names.begin(), {m.host, m.host + ".local"});
  return platform::device_tls_identity(fs_, o_.state_dir, names, m.addresses, clock_.wall_time_s());
}

void PageCertificate::log_identity(const platform::TlsIdentity& id) {
  std::string names;
  for (const auto& n : id.names) names += (names.empty() ? "" : ", ") + n;
  const std::string which =
      !o_.cert_file.empty() ? o_.cert_file : o_.state_dir + "/tls-cert.pem" + (id.made ? " (made now)" : "");
  log_.info("https", "certificate " + which + " for " + names);
  log_.info("https", "certificate SHA-256 fingerprint " + id.fingerprint);
  log_.info("https", "public key SHA-256 (base64, for pinning) " + id.spki_sha256);
}

void PageCertificate::plan_next_check() {
  const int64_t t = clock_.wall_time_s();
  next_check_ = t + (platform::wall_clock_plausible(t) ? kExpiryCheckEveryS : kClockUnsetCheckEveryS);
}

// A clock stepped back (NTP correcting one that ran ahead) must not postpone the check by the
// size of the step: a plan further away than any interval is due now.
bool PageCertificate::due(int64_t now) const { return now >= next_check_ || next_check_ - now > kExpiryCheckEveryS; }

int64_t PageCertificate::next_check_in_ms() {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = clock_.wall_time_s();
  return due(now) ? 0 : (next_check_ - now) * 1000;
}

Result<platform::TlsIdentity> PageCertificate::load() {
  std::lock_guard<std::mutex> lock(mu_);
  last_ = machine_();
  auto id = read_or_make(last_);
  if (!id) return id;
  plan_next_check();
  served_ = id->cert_pem;
  log_identity(*id);
  return id;
}

bool PageCertificate::refresh(bool reload, const Install& install) {
  std::lock_guard<std::mutex> lock(mu_);
  const bool own_files = !o_.cert_file.empty();
  if (own_files && !reload) return false;  // the person renews them and says so with SIGHUP
  MachineNames now = machine_();
  if (!reload && now == last_ && !due(clock_.wall_time_s())) return false;
  plan_next_check();
  auto id = read_or_make(now);
  if (!id) {
    log_.warn("https", "keeping the current certificate: " + id.error().message());
    next_check_ = clock_.wall_time_s() + kRetryAfterFailureS;
    return false;
  }
  if (id->cert_pem == served_) {  // the one served already fits (its chain too)
    last_ = std::move(now);
    return false;
  }
  log_identity(*id);
  Status st = install(*id);
  if (!st) {
    // The next look (an address event, a reload, or the check planned soon) tries again.
    log_.error("https", "cannot serve the new certificate, keeping the current one: " + st.error().message());
    next_check_ = clock_.wall_time_s() + kRetryAfterFailureS;
    return false;
  }
  log_.info("https", "serving the new certificate to new connections");
  served_ = id->cert_pem;
  last_ = std::move(now);
  return true;
}

}  // namespace tracklight::firmware
