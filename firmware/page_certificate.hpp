// The certificate the HTTPS page is served with (SPEC section 2), kept right while the agent runs:
// the device's own is made again when the machine's names or addresses change (a board that
// started before DHCP answered, a new lease) or when it nears expiry; the person's own files are
// read again on reload (SIGHUP), e.g. after a renewal.
#pragma once
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>
#include "platform/clock.hpp"
#include "platform/fs.hpp"
#include "platform/log.hpp"
#include "platform/result.hpp"
#include "platform/tls_identity.hpp"

namespace tracklight::firmware {

// What the certificate must name: the host name ("" when unknown) and this machine's addresses.
struct MachineNames {
  std::string host;
  std::vector<std::string> addresses;
  bool operator==(const MachineNames& o) const { return host == o.host && addresses == o.addresses; }
};

struct PageCertificateOptions {
  std::string state_dir;  // the device certificate's home
  std::string cert_file;  // set (with key_file): the person's own certificate instead
  std::string key_file;
};

class PageCertificate {
 public:
  static constexpr int64_t kExpiryCheckEveryS = 24 * 3600;

  PageCertificate(PageCertificateOptions opts, platform::Fs& fs, platform::Clock& clock, platform::Logger& log,
                  std::function<MachineNames()> machine);
  // At start-up: reads or makes the certificate and logs which it is, for which names, and its
  // fingerprints.
  Result<platform::TlsIdentity> load();
  // The certificate to serve from now on, when it must change: the device certificate made again
  // because the names differ from the last check or the daily expiry check made it again; with
  // `reload`, the person's files read again. Nothing when the current one stays (a failure is
  // logged, and the current certificate keeps being served). Any thread.
  std::optional<platform::TlsIdentity> refresh(bool reload);

 private:
  Result<platform::TlsIdentity> read_or_make(const MachineNames& m);
  void log_identity(const platform::TlsIdentity& id);

  PageCertificateOptions o_;
  platform::Fs& fs_;
  platform::Clock& clock_;
  platform::Logger& log_;
  std::function<MachineNames()> machine_;
  std::mutex mu_;
  MachineNames last_;
  int64_t next_expiry_check_ = 0;  // wall-clock seconds
};

}  // namespace tracklight::firmware
