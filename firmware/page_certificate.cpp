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

Result<platform::TlsIdentity> PageCertificate::load() {
  std::lock_guard<std::mutex> lock(mu_);
  last_ = machine_();
  auto id = read_or_make(last_);
  if (!id) return id;
  next_expiry_check_ = clock_.wall_time_s() + kExpiryCheckEveryS;
  log_identity(*id);
  return id;
}

std::optional<platform::TlsIdentity> PageCertificate::refresh(bool reload) {
  std::lock_guard<std::mutex> lock(mu_);
  const bool own_files = !o_.cert_file.empty();
  if (own_files && !reload) return std::nullopt;  // the person renews them and says so with SIGHUP
  MachineNames now = machine_();
  const int64_t t = clock_.wall_time_s();
  if (!reload && now == last_ && t < next_expiry_check_) return std::nullopt;
  auto id = read_or_make(now);
  if (!id) {
    // The old certificate is still good for what it names; try again at the next change or day.
    log_.warn("https", "keeping the current certificate: " + id.error().message());
    next_expiry_check_ = t + kExpiryCheckEveryS;
    return std::nullopt;
  }
  last_ = std::move(now);
  next_expiry_check_ = t + kExpiryCheckEveryS;
  if (!own_files && !id->made) return std::nullopt;  // the one on disk (and served) still fits
  log_identity(*id);
  return std::move(*id);
}

}  // namespace tracklight::firmware
