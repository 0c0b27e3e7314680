#include "platform/fs.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tracklight::platform {
namespace {

Error sys_error(const std::string& op, const std::string& path, int err) {
  ErrorCode code = ErrorCode::IoError;
  if (err == ENOSPC || err == EDQUOT || err == EFBIG) code = ErrorCode::NoSpace;
  if (err == EROFS || err == EACCES || err == EPERM) code = ErrorCode::ReadOnly;
  if (err == ENOENT) code = ErrorCode::NotFound;
  return Error{code, op + " " + path, err, std::strerror(err)};
}

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

Status write_all(int fd, const std::string& data, const std::string& path, const FsFaults& f) {
  size_t done = 0;
  while (done < data.size()) {
    size_t want = data.size() - done;
    if (f.fail_write_errno && done + want > f.short_write_after) {
      if (done < f.short_write_after) want = f.short_write_after - done;
      else return sys_error("write", path, f.fail_write_errno);
    }
    ssize_t n = ::write(fd, data.data() + done, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("write", path, errno);
    done += static_cast<size_t>(n);
  }
  return ok_status();
}

Status fsync_fd(int fd, const std::string& path, const FsFaults& f) {
  if (f.fail_fsync_errno) return sys_error("fsync", path, f.fail_fsync_errno);
  if (::fsync(fd) != 0) return sys_error("fsync", path, errno);
  return ok_status();
}

Status fsync_dir(const std::string& dir, const FsFaults& f) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return sys_error("open", dir, errno);
  Status st = fsync_fd(fd, dir, f);
  ::close(fd);
  return st;
}

// Root writing into a directory another user owns (the service's state directory under `sudo
// tracklight import`) gives the file to that owner: a root-owned 0600 file there would lock the
// service out of its own configuration or key.
Status give_to_directory_owner(int fd, const std::string& path) {
  if (::geteuid() != 0) return ok_status();
  struct stat dir {};
  if (::stat(dir_of(path).c_str(), &dir) != 0) return sys_error("stat", dir_of(path), errno);
  if (dir.st_uid == 0 || ::fchown(fd, dir.st_uid, dir.st_gid) == 0) return ok_status();
  return sys_error("chown", path, errno);
}

// Writes a new private file that must not exist yet (a stale one is removed first).
Status write_new_file(const std::string& path, const std::string& data, const FsFaults& f) {
  ::unlink(path.c_str());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return sys_error("open", path, errno);
  Status st = give_to_directory_owner(fd, path);
  if (st) st = write_all(fd, data, path, f);
  if (st) st = fsync_fd(fd, path, f);
  if (::close(fd) != 0 && st) st = sys_error("close", path, errno);
  if (!st) ::unlink(path.c_str());
  return st;
}

Result<std::string> read_regular(const std::string& path, size_t max_bytes, int flags) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | flags);
  if (fd < 0 && errno == ELOOP && (flags & O_NOFOLLOW))
    return Error{ErrorCode::BadInput, "open " + path, ELOOP, "is a symbolic link; the state directory must hold the file itself"};
  if (fd < 0) return sys_error("open", path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    int err = S_ISDIR(st.st_mode) ? EISDIR : errno;
    ::close(fd);
    return sys_error("read", path, err);
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return sys_error("read", path, err);
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes) {
      ::close(fd);
      return Error{ErrorCode::BadInput, "read " + path, 0,
                   "file is larger than " + std::to_string(max_bytes) + " bytes"};
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace

Result<std::string> PosixFs::read_file(const std::string& path, size_t max_bytes) { return read_regular(path, max_bytes, 0); }

// O_NONBLOCK: a FIFO planted under a state file's name is refused at once instead of blocking.
Result<std::string> PosixFs::read_state_file(const std::string& path, size_t max_bytes) {
  return read_regular(path, max_bytes, O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
}

Status PosixFs::write_file_atomic(const std::string& path, const std::string& data,
                                  const AtomicWriteOptions& opts) {
  const std::string tmp = path + opts.tmp_suffix;
  Status st = write_new_file(tmp, data, faults_);
  if (!st) return st;
  if (opts.keep_backup && exists(path)) {
    // The old file is never written in place, so a hard link to its inode is a complete copy;
    // link + rename keeps <path>.bak whole at every instant.
    const std::string bak = path + ".bak", bak_tmp = path + ".bak" + opts.tmp_suffix;
    ::unlink(bak_tmp.c_str());
    if (::link(path.c_str(), bak_tmp.c_str()) != 0 || ::rename(bak_tmp.c_str(), bak.c_str()) != 0) {
      Error e = sys_error("keep backup", bak, errno);
      ::unlink(bak_tmp.c_str());
      ::unlink(tmp.c_str());
      return e;
    }
  }
  int rename_err = faults_.fail_rename_errno;
  if (opts.create_only) {
    // link() refuses an existing name, where rename() would replace it.
    if (!rename_err && ::link(tmp.c_str(), path.c_str()) != 0) rename_err = errno;
    ::unlink(tmp.c_str());
  } else if (!rename_err && ::rename(tmp.c_str(), path.c_str()) != 0) {
    rename_err = errno;
  }
  if (rename_err) {
    ::unlink(tmp.c_str());
    if (opts.create_only && rename_err == EEXIST)
      return Error{ErrorCode::Conflict, "create " + path, EEXIST, "made meanwhile by another process"};
    return sys_error("rename", path, rename_err);
  }
  return fsync_dir(dir_of(path), faults_);
}

Status PosixFs::copy_file(const std::string& from, const std::string& to) {
  auto data = read_state_file(from, 16u << 20);
  if (!data) return data.error();
  Status st = write_new_file(to, *data, faults_);
  if (!st) return st;
  return fsync_dir(dir_of(to), faults_);
}

Status PosixFs::remove(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return sys_error("remove", path, errno);
  return ok_status();
}

bool PosixFs::exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

Status PosixFs::make_private_dir(const std::string& path) {
  if (path.empty()) return Error{ErrorCode::BadInput, "mkdir", 0, "empty path"};
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i != path.size() && path[i] != '/') continue;
    std::string part = path.substr(0, i);
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) return sys_error("mkdir", part, errno);
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return sys_error("stat", path, errno);
  if (!S_ISDIR(st.st_mode)) return sys_error("mkdir", path, ENOTDIR);
  // The directory holds the device key and sealed secrets: nobody else may list or enter it.
  if ((st.st_mode & 077) != 0 && ::chmod(path.c_str(), 0700) != 0) return sys_error("chmod", path, errno);
  return ok_status();
}

Result<bool> PosixFs::make_private_file(const std::string& path) {
  // Opened without following a symlink, and changed through the descriptor: a link planted in
  // the state directory cannot redirect the chmod to a file elsewhere.
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0 && errno == ELOOP)
    return Error{ErrorCode::BadInput, "open " + path, ELOOP, "is a symbolic link; the state directory must hold the file itself"};
  if (fd < 0) return sys_error("open", path, errno);
  struct stat st {};
  Result<bool> out = false;
  if (::fstat(fd, &st) != 0) out = sys_error("stat", path, errno);
  else if (!S_ISREG(st.st_mode)) out = Error{ErrorCode::BadInput, "open " + path, 0, "is not a regular file"};
  else if ((st.st_mode & 077) != 0 && ::fchmod(fd, st.st_mode & 0700) != 0) out = sys_error("chmod", path, errno);
  else out = (st.st_mode & 077) != 0;
  ::close(fd);
  return out;
}

}  // namespace tracklight::platform
