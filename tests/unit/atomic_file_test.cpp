#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "platform/fs.hpp"

namespace tracklight::platform {
namespace {

namespace stdfs = std::filesystem;

struct AtomicFileTest : ::testing::Test {
  stdfs::path dir;
  std::string path;
  void SetUp() override {
    char tmpl[] = "/tmp/tracklight-fs-XXXXXX";
    dir = mkdtemp(tmpl);
    path = (dir / "tracklight.conf").string();
  }
  void TearDown() override { stdfs::remove_all(dir); }
  std::string read(const std::string& p) {
    PosixFs fs;
    auto r = fs.read_file(p, 1 << 20);
    return r.ok() ? *r : "<missing>";
  }
};

TEST_F(AtomicFileTest, WritesPrivateFileAndKeepsBackup) {
  PosixFs fs;
  ASSERT_TRUE(fs.write_file_atomic(path, "one\n", {true}).ok());
  ASSERT_TRUE(fs.write_file_atomic(path, "two\n", {true}).ok());
  EXPECT_EQ(read(path), "two\n");
  EXPECT_EQ(read(path + ".bak"), "one\n");
  EXPECT_FALSE(fs.exists(path + ".tmp"));
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat((path + ".bak").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(AtomicFileTest, FailedWriteLeavesOldFileAndNoTemp) {
  ASSERT_TRUE(PosixFs().write_file_atomic(path, "good\n", {true}).ok());
  FsFaults disk_full;
  disk_full.fail_write_errno = ENOSPC;
  disk_full.short_write_after = 3;  // part of the data reached the disk before it filled up
  Status st = PosixFs(disk_full).write_file_atomic(path, "new content\n", {true});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::NoSpace);
  EXPECT_NE(st.error().message().find("tracklight.conf.tmp"), std::string::npos);
  EXPECT_EQ(read(path), "good\n");
  EXPECT_FALSE(PosixFs().exists(path + ".tmp"));
}

TEST_F(AtomicFileTest, FailedFsyncOrRenameLeavesOldFile) {
  ASSERT_TRUE(PosixFs().write_file_atomic(path, "good\n", {true}).ok());
  FsFaults fsync_fails;
  fsync_fails.fail_fsync_errno = EIO;
  EXPECT_FALSE(PosixFs(fsync_fails).write_file_atomic(path, "x\n", {true}).ok());
  EXPECT_EQ(read(path), "good\n");
  FsFaults rename_fails;
  rename_fails.fail_rename_errno = EROFS;
  Status st = PosixFs(rename_fails).write_file_atomic(path, "y\n", {true});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::ReadOnly);
  EXPECT_EQ(read(path), "good\n");
  EXPECT_FALSE(PosixFs().exists(path + ".tmp"));
}

TEST_F(AtomicFileTest, RealFileSizeLimitIsReportedAsNoSpace) {
  ASSERT_TRUE(PosixFs().write_file_atomic(path, "good\n", {}).ok());
  // A real kernel refusal, not an injected one: cap the file size for a child process.
  pid_t pid = fork();
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim {16, 16};
    setrlimit(RLIMIT_FSIZE, &lim);
    Status st = PosixFs().write_file_atomic(path, std::string(4096, 'x'), {});
    _exit(!st.ok() && st.error().code == ErrorCode::NoSpace ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(read(path), "good\n");
}

TEST_F(AtomicFileTest, ReadRefusesOversizeAndDirectories) {
  PosixFs fs;
  ASSERT_TRUE(fs.write_file_atomic(path, std::string(100, 'a'), {}).ok());
  EXPECT_FALSE(fs.read_file(path, 10).ok());
  EXPECT_FALSE(fs.read_file(dir.string(), 10).ok());
  EXPECT_EQ(fs.read_file(path + ".nope", 10).error().code, ErrorCode::NotFound);
}

TEST_F(AtomicFileTest, PrivateDirIsCreatedAndTightened) {
  PosixFs fs;
  std::string sub = (dir / "a/b").string();
  ASSERT_TRUE(fs.make_private_dir(sub).ok());
  chmod(sub.c_str(), 0755);
  ASSERT_TRUE(fs.make_private_dir(sub).ok());
  struct stat st {};
  ASSERT_EQ(stat(sub.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(AtomicFileTest, CreateOnlyLeavesAFileThatAppearedMeanwhile) {
  PosixFs fs;
  AtomicWriteOptions once;
  once.create_only = true;
  ASSERT_TRUE(fs.write_file_atomic(path, "first\n", once).ok());
  Status st = fs.write_file_atomic(path, "second\n", once);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::Conflict);
  EXPECT_EQ(read(path), "first\n");
  EXPECT_FALSE(fs.exists(path + ".tmp"));
}

TEST_F(AtomicFileTest, StateFilesAreReadWithoutFollowingLinksOrBlockingOnFifos) {
  PosixFs fs;
  const std::string target = (dir / "elsewhere").string();
  ASSERT_TRUE(fs.write_file_atomic(target, "not ours\n", {}).ok());
  ASSERT_EQ(symlink(target.c_str(), path.c_str()), 0);
  EXPECT_TRUE(fs.read_file(path, 100).ok());  // a path the person gave may be a link
  auto r = fs.read_state_file(path, 100);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("symbolic link"), std::string::npos) << r.error().message();
  EXPECT_FALSE(fs.copy_file(path, path + ".copy").ok());
  EXPECT_FALSE(fs.exists(path + ".copy"));
  const std::string fifo = (dir / "fifo").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_FALSE(fs.read_state_file(fifo, 100).ok());  // returns at once instead of waiting for a writer
}

// `sudo tracklight import` into the service's state directory: what root writes there must stay
// readable by the service user who owns the directory.
TEST_F(AtomicFileTest, RootWritingIntoAnotherUsersDirectoryGivesTheFileToThatUser) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to create files for another user";
  const uid_t service_uid = 65534;
  const gid_t service_gid = 65534;
  ASSERT_EQ(chown(dir.c_str(), service_uid, service_gid), 0);
  PosixFs fs;
  ASSERT_TRUE(fs.write_file_atomic(path, "one\n", {}).ok());
  ASSERT_TRUE(fs.write_file_atomic(path, "two\n", {true}).ok());
  ASSERT_TRUE(fs.copy_file(path, path + ".broken").ok());
  for (const std::string& p : {path, path + ".bak", path + ".broken"}) {
    struct stat st {};
    ASSERT_EQ(stat(p.c_str(), &st), 0) << p;
    EXPECT_EQ(st.st_uid, service_uid) << p;
    EXPECT_EQ(st.st_gid, service_gid) << p;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << p;
  }
}

}  // namespace
}  // namespace tracklight::platform

namespace tracklight::platform {
namespace {

TEST_F(AtomicFileTest, MakePrivateFileClosesGroupAndOtherAccess) {
  PosixFs fs;
  ASSERT_TRUE(fs.write_file_atomic(path, "secret\n", {}).ok());
  chmod(path.c_str(), 0644);
  auto changed = fs.make_private_file(path);
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(*changed);
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(*fs.make_private_file(path));
  EXPECT_FALSE(fs.make_private_file(path + ".missing").ok());
}

// `tracklight passwd` saving while the agent is half-way through its own save: neither
// removes the other's temporary file.
TEST_F(AtomicFileTest, ASecondWriterKeepsItsOwnTemporaryFile) {
  PosixFs fs;
  ASSERT_TRUE(fs.write_file_atomic(path, "one\n", {}).ok());
  {
    FILE* f = fopen((path + ".tmp").c_str(), "w");
    ASSERT_NE(f, nullptr);
    fputs("the agent's save in progress", f);
    fclose(f);
  }
  AtomicWriteOptions other;
  other.keep_backup = true;
  other.tmp_suffix = ".edit.tmp";
  ASSERT_TRUE(fs.write_file_atomic(path, "two\n", other).ok());
  EXPECT_EQ(read(path), "two\n");
  EXPECT_EQ(read(path + ".tmp"), "the agent's save in progress");
  EXPECT_FALSE(fs.exists(path + ".edit.tmp"));
}

// A symlink planted as tracklight.conf must not turn the start-up repair into a chmod of the
// file it points to (a 0644 file elsewhere stays 0644, and the link is refused by name).
TEST_F(AtomicFileTest, MakePrivateFileDoesNotFollowSymlinks) {
  PosixFs fs;
  const std::string target = (dir / "elsewhere").string();
  ASSERT_TRUE(fs.write_file_atomic(target, "not ours\n", {}).ok());
  chmod(target.c_str(), 0644);
  ASSERT_EQ(symlink(target.c_str(), path.c_str()), 0);
  auto changed = fs.make_private_file(path);
  ASSERT_FALSE(changed.ok());
  EXPECT_NE(changed.error().message().find("symbolic link"), std::string::npos) << changed.error().message();
  struct stat st {};
  ASSERT_EQ(stat(target.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

}  // namespace
}  // namespace tracklight::platform
