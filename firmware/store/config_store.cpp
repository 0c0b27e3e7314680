#include "firmware/store/config_store.hpp"

#include <cstdio>

#include "firmware/model/text.hpp"
#include "firmware/store/config_codec.hpp"
#include "platform/crypto.hpp"

namespace tracklight::firmware {
ConfigStore::ConfigStore(platform::Fs& fs, platform::Entropy& entropy, platform::Logger& log, std::string state_dir)
    : fs_(fs), entropy_(entropy), log_(log), dir_(std::move(state_dir)), path_(dir_ + "/tracklight.conf") {}

Status ConfigStore::open(StoreAccess access) {
  access_ = access;
  const std::string key_path = dir_ + "/device.key";
  if (access == StoreAccess::ReadOnly) {
    if (!fs_.exists(key_path))
      return fs_.exists(path_) ? Error{ErrorCode::NotFound, key_path, 0, "the device key is missing, so the stored secrets cannot be read"}
                               : Error{ErrorCode::NotFound, dir_, 0, "nothing is stored here yet (no device key and no configuration)"};
  } else {
    Status st = fs_.make_private_dir(dir_);
    if (!st) return st;
    if (!fs_.exists(key_path)) {
      auto key = entropy_.bytes(32);
      if (!key) return key.error();
      platform::AtomicWriteOptions once;
      once.create_only = true;  // made meanwhile by `tracklight passwd` or the agent: use theirs
      if (access != StoreAccess::Agent) once.tmp_suffix = ".edit.tmp";
      st = fs_.write_file_atomic(key_path, platform::base64_encode(*key) + "\n", once);
      if (!st && st.error().code != ErrorCode::Conflict) return st;
      if (st) log_.info("config", "created a new device key at " + key_path);
    }
  }
  auto text = fs_.read_state_file(key_path, 1024);
  if (!text) return text.error();
  std::string b64 = *text;
  while (!b64.empty() && (b64.back() == '\n' || b64.back() == '\r')) b64.pop_back();
  auto key = platform::base64_decode(b64);
  if (!key || key->size() != 32)
    return Error{ErrorCode::ConfigInvalid, key_path, 0,
                 "the device key is damaged (expected 32 bytes in base64); restore it from a backup"};
  box_ = SecretBox(*key);
  if (access != StoreAccess::Agent) return ok_status();
  // A key or config someone made readable to others (a copy, a restore, chmod) is closed again.
  for (const std::string& f : {key_path, path_, path_ + ".bak"}) {
    if (!fs_.exists(f)) continue;
    auto opened = fs_.make_private_file(f);
    if (!opened) return opened.error();
    if (*opened) log_.warn("config", f + " was readable by other users; it is now private (0600)");
  }
  // Stale temporary files from a save that was cut short are never valid data.
  (void)fs_.remove(path_ + ".tmp");
  (void)fs_.remove(path_ + ".bak.tmp");
  (void)fs_.remove(path_ + ".edit.tmp");  // from a passwd that was cut short
  (void)fs_.remove(path_ + ".bak.edit.tmp");
  return ok_status();
}

Result<Config> ConfigStore::read(const std::string& path) {
  auto text = fs_.read_state_file(path, kMaxConfigBytes + 1);
  if (!text) return text.error();
  if (path == path_) disk_digest_ = platform::sha256(*text);
  auto decoded = decode_config(*text, box_);
  if (!decoded) {
    Error e = decoded.error();
    e.op = path + " " + e.op;
    if (path == path_ && access_ != StoreAccess::ReadOnly) keep_broken_copy(*text);
    return e;
  }
  for (const auto& w : decoded->warnings) log_.warn("config", path + " " + w);
  return std::move(decoded->config);
}

void ConfigStore::keep_broken_copy(const std::string& text) {
  const std::string copy = path_ + ".broken-" + to_hex(platform::sha256(text).substr(0, 4));
  if (fs_.exists(copy)) return;
  Status st = fs_.copy_file(path_, copy);
  if (st) log_.warn("config", "kept a copy of the unreadable file as " + copy);
}

LoadedConfig ConfigStore::load() {
  LoadedConfig out;
  main_is_good_ = false;
  if (fs_.exists(path_)) {
    auto cfg = read(path_);
    if (cfg) {
      main_is_good_ = true;
      out.config = std::move(*cfg);
      return out;
    }
    out.problem = "the configuration file could not be used: " + cfg.error().message();
  } else if (!fs_.exists(path_ + ".bak")) {
    return out;  // first run
  } else {
    out.problem = "the configuration file " + path_ + " is missing";
  }
  log_.error("config", out.problem);
  const std::string bak = path_ + ".bak";
  if (fs_.exists(bak)) {
    auto cfg = read(bak);
    if (cfg) {
      out.config = std::move(*cfg);
      out.problem += "; using the backup " + bak + ". Saving will replace the broken file.";
      log_.warn("config", "using the backup " + bak);
      return out;
    }
    log_.error("config", "the backup is not usable either: " + cfg.error().message());
  }
  out.problem += "; starting with no connections. The file is left as it is until you save.";
  return out;
}

Result<Config> ConfigStore::reload() {
  auto cfg = read(path_);
  main_is_good_ = cfg.ok();  // a broken file must not replace the good backup at the next save
  return cfg;
}

Status ConfigStore::save(const Config& config) {
  auto text = encode_config(config, box_, entropy_);
  if (!text) return text.error();
  platform::AtomicWriteOptions opts;
  opts.keep_backup = main_is_good_;
  if (access_ != StoreAccess::Agent) opts.tmp_suffix = ".edit.tmp";
  Status st = fs_.write_file_atomic(path_, *text, opts);
  if (!st) return st;
  main_is_good_ = true;
  disk_digest_ = platform::sha256(*text);
  return ok_status();
}

bool ConfigStore::changed_on_disk() {
  auto text = fs_.read_state_file(path_, kMaxConfigBytes + 1);
  return (text ? platform::sha256(*text) : std::string()) != disk_digest_;
}

}  // namespace tracklight::firmware
