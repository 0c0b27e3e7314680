#include "firmware/cli_transfer.hpp"

#include <cstdio>
#include <memory>

#include "firmware/store/config_store.hpp"
#include "firmware/store/transfer.hpp"
#include "platform/entropy.hpp"
#include "platform/fs.hpp"
#include "platform/log.hpp"

namespace tracklight::firmware {

const char* const kTransferUsage =
    "       tracklight [options] device-key --public\n"
    "                       print this device's provisioning public key (one line), for export --for\n"
    "       tracklight [options] export [--with-secrets --for KEY] [ID...]\n"
    "                       write connections and agent settings to stdout; secrets only with\n"
    "                       --with-secrets, sealed for the device whose device-key --public is KEY\n"
    "       tracklight [options] import FILE [--dry-run] [--replace]\n"
    "                       check FILE whole, print what changes, apply it (--dry-run: only print);\n"
    "                       --replace makes the stored connections exactly the file's\n";

namespace {

struct Offline {
  platform::PosixFs fs;
  platform::LinuxEntropy entropy;
  platform::StderrLogger log{platform::LogLevel::Warn};
};

int usage(const std::string& why) {
  std::fprintf(stderr, "tracklight: %s\nusage:\n%s", why.c_str(), kTransferUsage);
  return 2;
}

int failed(const std::string& why) {
  std::fprintf(stderr, "tracklight: %s\n", why.c_str());
  return 1;
}

int run_device_key(const std::string& state_dir, const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0] != "--public")
    return usage("device-key takes --public: only the public key ever leaves the device");
  Offline p;
  auto key = load_or_create_provisioning_key(p.fs, p.entropy, state_dir, ".edit.tmp");
  if (!key) return failed(key.error().message());
  std::printf("%s\n", key->public_key().text().c_str());
  return 0;
}

// Reads the stored configuration as the agent would, refusing a file that does not parse
// (the agent would be running on its backup). `missing_ok`: an empty state directory is an
// empty configuration.
bool read_current(Offline& p, ConfigStore& store, StoreAccess access, bool missing_ok, Config& out) {
  Status st = store.open(access);
  if (!st) {
    if (missing_ok && st.error().code == ErrorCode::NotFound && !p.fs.exists(store.path())) return true;
    failed(st.error().message());
    return false;
  }
  LoadedConfig loaded = store.load();
  if (!loaded.problem.empty()) {
    failed(loaded.problem + "\nFix or move the file first; nothing was changed.");
    return false;
  }
  out = std::move(loaded.config);
  return true;
}

int run_export(const std::string& state_dir, const std::vector<std::string>& args) {
  bool with_secrets = false;
  std::string for_key;
  std::vector<std::string> ids;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--with-secrets") {
      with_secrets = true;
    } else if (args[i] == "--for") {
      if (i + 1 >= args.size()) return usage("--for needs the receiving device's key (tracklight device-key --public there)");
      for_key = args[++i];
    } else if (args[i].rfind("-", 0) == 0) {
      return usage("unknown export option '" + args[i] + "'");
    } else if (!valid_connection_id(args[i])) {
      return usage("'" + args[i] + "' is not a connection id");
    } else {
      ids.push_back(args[i]);
    }
  }
  if (with_secrets != !for_key.empty())
    return usage(with_secrets ? "--with-secrets needs --for KEY: secrets are only exported sealed for the receiving device"
                              : "--for goes with --with-secrets");
  DevicePublicKey to;
  if (with_secrets) {
    auto parsed = parse_device_public_key(for_key);
    if (!parsed) return usage("--for: " + parsed.error().detail);
    to = *parsed;
  }
  Offline p;
  ConfigStore store(p.fs, p.entropy, p.log, state_dir);
  Config current;
  if (!read_current(p, store, StoreAccess::ReadOnly, false, current)) return 1;
  auto chosen = select_for_export(current, ids);
  if (!chosen) return failed(chosen.error().message());
  auto text = encode_transfer(*chosen, with_secrets ? &to : nullptr, p.entropy);
  if (!text) return failed(text.error().message());
  std::fwrite(text->data(), 1, text->size(), stdout);
  if (std::fflush(stdout) != 0) return failed("could not write the export to standard output");
  std::fprintf(stderr, "tracklight: exported %zu connection(s), %s\n", chosen->connections.size(),
               with_secrets ? ("secrets sealed for device key " + to.fingerprint()).c_str() : "without secrets");
  return 0;
}

// "line 7: ..." warnings and problems, as FILE:7: ...
std::string at(const std::string& file, size_t line) { return line ? file + ":" + std::to_string(line) : file; }

int refuse(const std::string& file, const std::vector<LineProblem>& problems) {
  for (const auto& pr : problems) std::fprintf(stderr, "%s: %s\n", at(file, pr.line).c_str(), pr.message.c_str());
  std::fprintf(stderr, "tracklight: %s: %zu problem(s); nothing was changed\n", file.c_str(), problems.size());
  return 1;
}

int run_import(const std::string& state_dir, const std::vector<std::string>& args) {
  bool dry_run = false, replace = false;
  std::string file;
  for (const auto& a : args) {
    if (a == "--dry-run") dry_run = true;
    else if (a == "--replace") replace = true;
    else if (a.rfind("-", 0) == 0) return usage("unknown import option '" + a + "'");
    else if (file.empty()) file = a;
    else return usage("import takes one FILE");
  }
  if (file.empty()) return usage("import needs the FILE an export wrote");
  Offline p;
  auto text = p.fs.read_file(file, kMaxConfigBytes);
  if (!text) return failed(text.error().code == ErrorCode::BadInput ? file + ": the file is larger than 1 MiB" : text.error().message());
  const std::string key_path = state_dir + "/" + kProvisioningKeyFile;
  std::unique_ptr<ProvisioningKey> key;
  if (p.fs.exists(key_path)) {
    auto loaded = load_provisioning_key(p.fs, state_dir);
    if (!loaded) return failed(loaded.error().message());
    key = std::make_unique<ProvisioningKey>(*loaded);
  }
  DecodedTransfer decoded = decode_transfer(*text, key.get());
  if (!decoded.problems.empty()) return refuse(file, decoded.problems);
  for (const auto& w : decoded.warnings) {
    const bool numbered = w.rfind("line ", 0) == 0;
    std::fprintf(stderr, "%s:%s\n", file.c_str(), numbered ? w.substr(5).c_str() : (" " + w).c_str());
  }
  ConfigStore store(p.fs, p.entropy, p.log, state_dir);
  Config current;
  if (!read_current(p, store, dry_run ? StoreAccess::ReadOnly : StoreAccess::Edit, dry_run, current)) return 1;
  ImportPlan plan = plan_import(current, decoded, replace);
  if (!plan.problems.empty()) return refuse(file, plan.problems);
  for (const auto& line : describe_plan(plan)) std::printf("%s\n", line.c_str());
  if (dry_run) {
    std::printf("dry run: nothing was changed\n");
    return 0;
  }
  if (!plan.changes_anything()) {
    std::printf("nothing to change\n");
    return 0;
  }
  Status st = store.save(plan.next);
  if (!st) return failed("could not save: " + st.error().message() + "; nothing was changed");
  std::printf("Imported into %s. A running agent picks it up on reload (systemctl reload tracklight,\n"
              "or kill -HUP its pid) and checks the changed connections within seconds.\n",
              store.path().c_str());
  return 0;
}

}  // namespace

bool is_transfer_command(const std::string& command) {
  return command == "export" || command == "import" || command == "device-key";
}

int run_transfer_command(const std::string& command, const std::string& state_dir, const std::vector<std::string>& args) {
  if (command == "device-key") return run_device_key(state_dir, args);
  if (command == "export") return run_export(state_dir, args);
  return run_import(state_dir, args);
}

}  // namespace tracklight::firmware
