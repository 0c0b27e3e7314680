#include "firmware/store/config_store.hpp"

#include <gtest/gtest.h>

#include "firmware/store/config_codec.hpp"
#include "tests/support/fakes.hpp"

namespace tracklight::firmware {
namespace {

struct ConfigStoreTest : ::testing::Test {
  test::MemoryFs fs;
  test::CountingEntropy entropy;
  platform::MemoryLogger log;
  const std::string conf = "state/tracklight.conf";

  ConfigStore open_store() {
    ConfigStore s(fs, entropy, log, "state");
    EXPECT_TRUE(s.open().ok());
    return s;
  }
  static Config with_connection(const std::string& id) {
    Config c;
    Connection x;
    x.id = id;
    x.name = id;
    x.provider = "jira";
    x.auth = "pat";
    x.server_url = "https://" + id + ".example";
    x.token = "CANARY-" + id;
    c.connections.push_back(x);
    return c;
  }
};

TEST_F(ConfigStoreTest, FirstRunIsEmptyAndQuiet) {
  ConfigStore s = open_store();
  LoadedConfig l = s.load();
  EXPECT_TRUE(l.config.connections.empty());
  EXPECT_TRUE(l.problem.empty());
  EXPECT_TRUE(fs.exists("state/device.key"));
}

TEST_F(ConfigStoreTest, SaveThenLoadAndBackupRotation) {
  ConfigStore s = open_store();
  s.load();
  ASSERT_TRUE(s.save(with_connection("one")).ok());
  ASSERT_TRUE(s.save(with_connection("two")).ok());
  ConfigStore again = open_store();
  LoadedConfig l = again.load();
  ASSERT_EQ(l.config.connections.size(), 1u);
  EXPECT_EQ(l.config.connections[0].id, "two");
  EXPECT_EQ(l.config.connections[0].token, "CANARY-two");
  EXPECT_NE(fs.files["state/tracklight.conf.bak"].find("[connection one]"), std::string::npos);
}

TEST_F(ConfigStoreTest, BrokenFileFallsBackToBackupAndIsKept) {
  ConfigStore s = open_store();
  s.load();
  ASSERT_TRUE(s.save(with_connection("one")).ok());
  ASSERT_TRUE(s.save(with_connection("two")).ok());
  const std::string broken = fs.files[conf].substr(0, 200) + "\n[connection !!]\n";
  fs.files[conf] = broken;

  ConfigStore again = open_store();
  LoadedConfig l = again.load();
  ASSERT_EQ(l.config.connections.size(), 1u);
  EXPECT_EQ(l.config.connections[0].id, "one");  // from the backup
  EXPECT_NE(l.problem.find("tracklight.conf line"), std::string::npos) << l.problem;
  EXPECT_NE(l.problem.find("using the backup"), std::string::npos);
  EXPECT_EQ(fs.files[conf], broken);  // untouched until the user saves
  bool copied = false;
  for (const auto& f : fs.files) copied = copied || (f.first.find(".broken-") != std::string::npos && f.second == broken);
  EXPECT_TRUE(copied);

  // Saving replaces the broken file but keeps the good backup, not the broken one.
  ASSERT_TRUE(again.save(with_connection("three")).ok());
  EXPECT_NE(fs.files[conf + ".bak"].find("[connection one]"), std::string::npos);
}

TEST_F(ConfigStoreTest, BrokenFileWithoutBackupStartsEmpty) {
  ConfigStore s = open_store();
  fs.files[conf] = "garbage";
  LoadedConfig l = s.load();
  EXPECT_TRUE(l.config.connections.empty());
  EXPECT_NE(l.problem.find("no connections"), std::string::npos);
  EXPECT_EQ(fs.files[conf], "garbage");
}

TEST_F(ConfigStoreTest, FailedSaveReportsAndKeepsFile) {
  ConfigStore s = open_store();
  s.load();
  ASSERT_TRUE(s.save(with_connection("one")).ok());
  std::string before = fs.files[conf];
  fs.fail_writes_errno = ENOSPC;
  Status st = s.save(with_connection("two"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::NoSpace);
  EXPECT_EQ(fs.files[conf], before);
}

TEST_F(ConfigStoreTest, DamagedDeviceKeyIsRefused) {
  fs.files["state/device.key"] = "not base64!\n";
  ConfigStore s(fs, entropy, log, "state");
  Status st = s.open();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().detail.find("device key is damaged"), std::string::npos);
}

// Records every change an offline command makes to the state directory.
struct WatchedFs : test::MemoryFs {
  std::vector<std::string> changes;
  Status write_file_atomic(const std::string& p, const std::string& d, const platform::AtomicWriteOptions& o) override {
    changes.push_back("write " + p);
    return MemoryFs::write_file_atomic(p, d, o);
  }
  Status copy_file(const std::string& from, const std::string& to) override {
    changes.push_back("copy " + to);
    return MemoryFs::copy_file(from, to);
  }
  Status remove(const std::string& p) override {
    changes.push_back("remove " + p);
    return MemoryFs::remove(p);
  }
  Status make_private_dir(const std::string& p) override {
    changes.push_back("mkdir " + p);
    return MemoryFs::make_private_dir(p);
  }
  Result<bool> make_private_file(const std::string& p) override {
    changes.push_back("chmod " + p);
    return false;
  }
};

// `tracklight test` next to a running agent: no key made, no mode changed, the agent's
// half-written temporary file left alone, no copy of a broken file made.
TEST(OfflineStore, ReadOnlyChangesNothing) {
  WatchedFs fs;
  test::CountingEntropy entropy;
  platform::MemoryLogger log;
  {
    ConfigStore empty(fs, entropy, log, "state");
    Status st = empty.open(StoreAccess::ReadOnly);
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.error().message().find("nothing is stored"), std::string::npos) << st.error().message();
  }
  EXPECT_TRUE(fs.changes.empty());
  EXPECT_FALSE(fs.exists("state/device.key"));
  {
    ConfigStore agent(fs, entropy, log, "state");
    ASSERT_TRUE(agent.open().ok());
    ASSERT_TRUE(agent.save(ConfigStoreTest::with_connection("a")).ok());
  }
  fs.files["state/tracklight.conf.tmp"] = "the running agent is saving";
  fs.changes.clear();
  ConfigStore tool(fs, entropy, log, "state");
  ASSERT_TRUE(tool.open(StoreAccess::ReadOnly).ok());
  EXPECT_EQ(tool.load().config.connections.size(), 1u);
  fs.files["state/tracklight.conf"] = "version = 1\n[broken\n";
  EXPECT_FALSE(tool.load().problem.empty());
  EXPECT_TRUE(fs.changes.empty()) << fs.changes.front();
  EXPECT_TRUE(fs.exists("state/tracklight.conf.tmp"));
}

TEST(OfflineStore, PasswdLeavesTheRunningAgentsFilesAlone) {
  WatchedFs fs;
  test::CountingEntropy entropy;
  platform::MemoryLogger log;
  {
    ConfigStore agent(fs, entropy, log, "state");
    ASSERT_TRUE(agent.open().ok());
  }
  fs.files["state/tracklight.conf.tmp"] = "the running agent is saving";
  fs.changes.clear();
  ConfigStore tool(fs, entropy, log, "state");
  ASSERT_TRUE(tool.open(StoreAccess::Edit).ok());
  for (const auto& c : fs.changes) EXPECT_EQ(c.find("chmod"), std::string::npos) << c;
  for (const auto& c : fs.changes) EXPECT_EQ(c.find("remove"), std::string::npos) << c;
  EXPECT_TRUE(fs.exists("state/tracklight.conf.tmp"));
}

TEST_F(ConfigStoreTest, NoticesAChangeOnDisk) {
  ConfigStore s = open_store();
  s.load();
  EXPECT_FALSE(s.changed_on_disk());
  ASSERT_TRUE(s.save(with_connection("a")).ok());
  EXPECT_FALSE(s.changed_on_disk()) << "its own save is not a change";
  ConfigStore other = open_store();
  other.load();
  ASSERT_TRUE(other.save(with_connection("b")).ok());
  EXPECT_TRUE(s.changed_on_disk());
  ASSERT_TRUE(s.reload().ok());
  EXPECT_FALSE(s.changed_on_disk());
}

}  // namespace
}  // namespace tracklight::firmware
