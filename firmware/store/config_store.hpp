// Loads and saves the flat file under the state directory, with the device key beside it.
//
// Start-up: a file that does not parse is reported with its line, copied aside once as
// tracklight.conf.broken-<hash>, and left in place untouched; the agent falls back to the
// backup (tracklight.conf.bak), else to no connections. Saving replaces the file atomically and
// keeps the replaced one as the backup, unless the replaced one was broken (the good backup
// stays). A failed save leaves the file as it was and says why. The store remembers a digest of
// the file as it last read or wrote it, so the agent notices a change made behind its back
// (tracklight passwd, an editor). Not thread-safe: the owner serialises calls.
#pragma once
#include <string>
#include "firmware/model/config.hpp"
#include "firmware/store/secret_box.hpp"
#include "platform/entropy.hpp"
#include "platform/fs.hpp"
#include "platform/log.hpp"

namespace tracklight::firmware {

struct LoadedConfig {
  Config config;
  std::string problem;  // for the page: why the file was not used as it is ("" when fine)
};

// What open() may do to the state directory.
enum class StoreAccess {
  Agent,     // the running agent: create the directory and key, close modes, drop stale temp files
  Edit,      // an offline command that saves (passwd): create what is missing, touch nothing else;
             // a running agent's temporary files and modes are its own business
  ReadOnly,  // an offline command that only reads (test): change nothing at all
};

class ConfigStore {
 public:
  ConfigStore(platform::Fs& fs, platform::Entropy& entropy, platform::Logger& log, std::string state_dir);

  Status open(StoreAccess access = StoreAccess::Agent);
  LoadedConfig load();
  // Reads the main file only (SIGHUP): on failure the caller keeps what it has.
  Result<Config> reload();
  Status save(const Config& config);
  // The main file is no longer what this store last read or wrote.
  bool changed_on_disk();

  const std::string& path() const { return path_; }
  const std::string& state_dir() const { return dir_; }

 private:
  Result<Config> read(const std::string& path);
  void keep_broken_copy(const std::string& text);

  platform::Fs& fs_;
  platform::Entropy& entropy_;
  platform::Logger& log_;
  std::string dir_, path_;
  SecretBox box_{""};
  StoreAccess access_ = StoreAccess::Agent;
  std::string disk_digest_;  // SHA-256 of the main file as last read or written; "" = absent
  bool main_is_good_ = false;  // the file on disk parses; when it does not, a save keeps the old backup
};

}  // namespace tracklight::firmware
