#include <gtest/gtest.h>

#include "firmware/access/admin_password.hpp"
#include "firmware/access/sessions.hpp"
#include "tests/support/fakes.hpp"

namespace tracklight::firmware {
namespace {

TEST(AdminPassword, HashVerifiesOnlyTheRightPassword) {
  test::CountingEntropy e;
  auto h = hash_password("correct horse", e, 1000);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->rfind("pbkdf2-sha256$1000$", 0), 0u);
  EXPECT_EQ(h->find("correct"), std::string::npos);
  EXPECT_TRUE(verify_password("correct horse", *h));
  EXPECT_FALSE(verify_password("correct hors3", *h));  // same length, one byte off
  EXPECT_FALSE(verify_password("", *h));
  auto h2 = hash_password("correct horse", e, 1000);
  EXPECT_NE(*h, *h2);  // salted
}

TEST(AdminPassword, MalformedStoredHashNeverVerifies) {
  for (const char* bad : {"", "pbkdf2-sha256$", "pbkdf2-sha256$x$AA==$AA==", "pbkdf2-sha256$0$AA==$AA==",
                          "md5$1$AA==$AA==", "pbkdf2-sha256$10$@@$AA==", "pbkdf2-sha256$10$AA==$"})
    EXPECT_FALSE(verify_password("anything", bad)) << bad;
}

TEST(AdminPassword, DefaultIterationCountIsHigh) {
  EXPECT_GE(kPasswordIterations, 200000u);
  EXPECT_EQ(password_problem("short"), "use at least 8 characters");
  EXPECT_EQ(password_problem("long enough"), "");
  EXPECT_NE(password_problem(std::string("tab\there", 8)), "");
}

TEST(LoginThrottle, DelaysGrowPerClientAndOthersAreFree) {
  LoginThrottle t;
  int64_t now = 0;
  for (int i = 0; i < LoginThrottle::kFreeAttempts - 1; ++i) t.failed("10.0.0.1", now);
  EXPECT_EQ(t.wait_ms("10.0.0.1", now), 0);
  t.failed("10.0.0.1", now);
  EXPECT_EQ(t.wait_ms("10.0.0.1", now), 1000);
  now += 1000;
  t.failed("10.0.0.1", now);
  EXPECT_EQ(t.wait_ms("10.0.0.1", now), 2000);
  for (int i = 0; i < 30; ++i) t.failed("10.0.0.1", now);
  EXPECT_EQ(t.wait_ms("10.0.0.1", now), LoginThrottle::kMaxDelayMs);
  EXPECT_EQ(t.wait_ms("10.0.0.2", now), 0);
  EXPECT_EQ(t.wait_ms("10.0.0.1", now + LoginThrottle::kMaxDelayMs), 0);
  t.succeeded("10.0.0.1");
  EXPECT_EQ(t.wait_ms("10.0.0.1", now), 0);
}

TEST(LoginThrottle, MemoryStaysBounded) {
  LoginThrottle t;
  for (size_t i = 0; i < LoginThrottle::kMaxClients + 50; ++i) t.failed("c" + std::to_string(i), static_cast<int64_t>(i));
  EXPECT_EQ(t.size(), LoginThrottle::kMaxClients);
  for (int i = 0; i < 10; ++i) t.failed("c-last", 1 << 20);
  EXPECT_EQ(t.size(), LoginThrottle::kMaxClients);
  EXPECT_GT(t.wait_ms("c-last", 1 << 20), 0);
  EXPECT_EQ(t.wait_ms("c0", 1 << 20), 0) << "the oldest client was the one dropped";
}

TEST(Sessions, ExpireWhenIdleAndAreBounded) {
  test::CountingEntropy e;
  SessionTable s;
  auto id = s.create(e, 0);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->size(), 64u);
  const Session* live = s.find(*id, SessionTable::kIdleTimeoutMs - 1);
  ASSERT_NE(live, nullptr);
  EXPECT_EQ(live->csrf_token.size(), 64u);
  // Use keeps it alive; a whole idle period after the last use ends it.
  EXPECT_EQ(s.find(*id, 2 * SessionTable::kIdleTimeoutMs), nullptr);
  std::string first = *s.create(e, 0);
  for (size_t i = 0; i < SessionTable::kMaxSessions; ++i) (void)s.create(e, 1 + static_cast<int64_t>(i));
  EXPECT_EQ(s.find(first, 100), nullptr);  // the oldest made room
}

TEST(SetupCode, FormatAndForgivingComparison) {
  test::CountingEntropy e;
  auto code = make_setup_code(e);
  ASSERT_TRUE(code.ok());
  ASSERT_EQ(code->size(), 11u);
  EXPECT_EQ((*code)[5], '-');
  std::string loose = *code;
  loose.erase(5, 1);
  for (auto& c : loose) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_TRUE(setup_code_matches(loose, *code));
  EXPECT_FALSE(setup_code_matches("AAAAA-AAAAA", *code));
  EXPECT_FALSE(setup_code_matches("", ""));
}

}  // namespace
}  // namespace tracklight::firmware
