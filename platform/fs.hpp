// Files. The config store goes through this interface so tests can use an in-memory version.
// write_file_atomic: the file at `path` is either its old content or the new one, never partial,
// even on power loss: write <path>.tmp (O_EXCL, 0600), fsync, [hard-link old file to
// <path>.bak], rename over <path>, fsync the directory. Thread-safety: none; callers serialise.
// Run as root (`sudo tracklight import` into the service's state directory), new files take the
// directory's owner, so the unprivileged service can still read what root wrote.
#pragma once
#include <string>
#include <vector>
#include "platform/result.hpp"

namespace tracklight::platform {

struct AtomicWriteOptions {
  bool keep_backup = false;  // keep the replaced file as <path>.bak
  // Names the temporary file <path><tmp_suffix>: two programs saving the same file (the agent
  // and `tracklight passwd`) each use their own, so neither removes the other's half-written one.
  std::string tmp_suffix = ".tmp";
  // Only create: when <path> already exists (another process made it meanwhile) the write fails
  // with AlreadyExists and the existing file stays. For keys made once, which must never change
  // under a reader that already handed out their public part.
  bool create_only = false;
};

class Fs {
 public:
  virtual ~Fs() = default;
  virtual Result<std::string> read_file(const std::string& path, size_t max_bytes) = 0;
  // A file of the state directory, which the service user can change: a symbolic link there is
  // refused, not followed, so root running `tracklight import` or `passwd` never reads (and
  // copies aside as a broken config) a file the link points to.
  virtual Result<std::string> read_state_file(const std::string& path, size_t max_bytes) {
    return read_file(path, max_bytes);
  }
  virtual Status write_file_atomic(const std::string& path, const std::string& data,
                                   const AtomicWriteOptions& opts) = 0;
  // A plain private (0600) copy of a state file under a new name; used to keep a broken config
  // aside. Like read_state_file, it does not follow a symbolic link.
  virtual Status copy_file(const std::string& from, const std::string& to) = 0;
  virtual Status remove(const std::string& path) = 0;
  virtual bool exists(const std::string& path) = 0;
  virtual Status make_private_dir(const std::string& path) = 0;  // mkdir -p, mode 0700
  // Removes group and other access from an existing file; true when it had any.
  virtual Result<bool> make_private_file(const std::string& path) = 0;
};

// Syscall seam for fault injection in tests (disk full at write, failing fsync or rename).
struct FsFaults {
  int fail_write_errno = 0;
  int fail_fsync_errno = 0;
  int fail_rename_errno = 0;
  size_t short_write_after = 0;  // with fail_write_errno: bytes written before the failure
};

class PosixFs : public Fs {
 public:
  explicit PosixFs(FsFaults faults = {}) : faults_(faults) {}
  Result<std::string> read_file(const std::string& path, size_t max_bytes) override;
  Result<std::string> read_state_file(const std::string& path, size_t max_bytes) override;
  Status write_file_atomic(const std::string& path, const std::string& data,
                           const AtomicWriteOptions& opts) override;
  Status copy_file(const std::string& from, const std::string& to) override;
  Status remove(const std::string& path) override;
  bool exists(const std::string& path) override;
  Status make_private_dir(const std::string& path) override;
  Result<bool> make_private_file(const std::string& path) override;

 private:
  FsFaults faults_;
};

}  // namespace tracklight::platform
