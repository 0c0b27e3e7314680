// Loads and saves the flat file under the state directory, with the device key beside it.
//
// Start-up: a file that does not parse is reported with its line, copied aside once as
// tracklight.conf.broken-<hash>, and left in place untouched; the agent falls back to the
// backup (tracklight.conf.bak), else to no connections. Saving replaces the file atomically and
// keeps the replaced one as the backup, unless the replaced one was broken (the good backup
// stays). A failed save leaves the file as it was and says why. Not thread-safe: the owner
// serialises calls.
#pragma once
#include <string>
#include "firmware/config.hpp"
#include "firmware/secret_box.hpp"
#include "platform/entropy.hpp"
#include "platform/fs.hpp"
#include "platform/log.hpp"

namespace tracklight::firmware {

struct LoadedConfig {
  Config config;
  std::string problem;  // for the page: why the file was not used as it is ("" when fine)
};

class ConfigStore {
 public:
  ConfigStore(platform::Fs& fs, platform::Entropy& entropy, platform::Logger& log, std::string state_dir);

  // Creates the state directory and the device key when missing.
  Status open();
  LoadedConfig load();
  // Reads the main file only (SIGHUP): on failure the caller keeps what it has.
  Result<Config> reload();
  Status save(const Config& config);

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
  bool main_is_good_ = false;  // the file on disk parses; when it does not, a save keeps the old backup
};

}  // namespace tracklight::firmware
