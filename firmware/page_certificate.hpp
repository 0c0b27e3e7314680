// The certificate the HTTPS page is served with (SPEC section 2), kept right while the agent runs:
// the device's own is made again when the machine's names or addresses change (a board that
// started before DHCP answered, a new lease) or when it nears expiry; the person's own files are
// read again on reload (SIGHUP), e.g. after a renewal.
#pragma once
#include <cstdint>
#include <functional>
#include <mutex>
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
  // A board without a real-time clock starts in 1970 until NTP answers: a certificate made then
  // is looked at again soon, not a day later.
  static constexpr int64_t kClockUnsetCheckEveryS = 5 * 60;
  // A certificate that could not be made, saved or installed is tried again this soon.
  static constexpr int64_t kRetryAfterFailureS = 5 * 60;
  // Serves a new certificate and key; on an error the one served stays.
  using Install = std::function<Status(const platform::TlsIdentity&)>;

  PageCertificate(PageCertificateOptions opts, platform::Fs& fs, platform::Clock& clock, platform::Logger& log,
                  std::function<MachineNames()> machine);
  // At start-up: reads or makes the certificate (the caller serves it) and logs which it is, for
  // which names, and its fingerprints.
  Result<platform::TlsIdentity> load();
  // Makes the certificate served follow the machine: the device certificate is made again when
  // the names differ from those it was made for, or when the periodic expiry check says so; with
  // `reload`, the person's files are read again. A new one is handed to `install`, under this
  // object's lock (so two callers cannot install out of order); when making, reading or
  // installing fails, that is logged, the served certificate stays, and the next call tries
  // again. Returns whether a new certificate was installed. Any thread.
  bool refresh(bool reload, const Install& install);
  // How long until refresh() has a periodic check to do (milliseconds, at least 0).
  int64_t next_check_in_ms();

 private:
  Result<platform::TlsIdentity> read_or_make(const MachineNames& m);
  void log_identity(const platform::TlsIdentity& id);
  void plan_next_check();

  PageCertificateOptions o_;
  platform::Fs& fs_;
  platform::Clock& clock_;
  platform::Logger& log_;
  std::function<MachineNames()> machine_;
  std::mutex mu_;
  MachineNames last_;   // the names the last look found
  std::string served_;  // the certificate (and chain) being served, PEM
  bool due(int64_t now) const;
  int64_t next_check_ = 0;  // wall-clock seconds
};

}  // namespace tracklight::firmware
