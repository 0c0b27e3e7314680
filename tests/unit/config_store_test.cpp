#include "firmware/config_store.hpp"

#include <gtest/gtest.h>

#include "firmware/config_codec.hpp"
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

}  // namespace
}  // namespace tracklight::firmware
