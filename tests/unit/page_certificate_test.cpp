// The HTTPS page's certificate while the agent runs: made again for new addresses or near expiry
// (same key), left alone otherwise; the person's own files only on reload; a failure keeps the
// certificate being served and is tried again.
#include "firmware/page_certificate.hpp"

#include <gtest/gtest.h>
#include <algorithm>
#include "tests/support/fakes.hpp"

using namespace tracklight;
using tracklight::test::FakeClock;
using tracklight::test::MemoryFs;

namespace {

bool names_has(const platform::TlsIdentity& id, const std::string& n) {
  return std::find(id.names.begin(), id.names.end(), n) != id.names.end();
}

bool logged(platform::MemoryLogger& log, const std::string& text) {
  for (const auto& l : log.lines())
    if (l.find(text) != std::string::npos) return true;
  return false;
}

struct PageCertificateTest : ::testing::Test {
  MemoryFs fs;
  FakeClock clock;
  platform::MemoryLogger log;
  firmware::MachineNames machine{"kiosk", {"127.0.0.1", "::1"}};
  firmware::PageCertificate device{{"/state", "", ""}, fs, clock, log, [this] { return machine; }};
  std::vector<platform::TlsIdentity> served;  // what the listener was given, in order
  int refuse_installs = 0;
  firmware::PageCertificate::Install install = [this](const platform::TlsIdentity& id) -> Status {
    if (refuse_installs > 0) {
      --refuse_installs;
      return Error{ErrorCode::BadInput, "TLS certificate", 0, "refused by the test"};
    }
    served.push_back(id);
    return ok_status();
  };
};

}  // namespace

TEST_F(PageCertificateTest, ANewAddressMakesItAgainWithTheSameKey) {
  auto first = device.load();
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_TRUE(names_has(*first, "kiosk.local"));
  EXPECT_FALSE(names_has(*first, "192.168.1.40"));
  EXPECT_FALSE(device.refresh(false, install)) << "nothing changed";
  EXPECT_TRUE(served.empty());

  machine.addresses.push_back("192.168.1.40");  // DHCP answered after start-up
  ASSERT_TRUE(device.refresh(false, install));
  ASSERT_EQ(served.size(), 1u);
  const platform::TlsIdentity& second = served[0];
  EXPECT_TRUE(second.made);
  EXPECT_TRUE(names_has(second, "192.168.1.40"));
  EXPECT_NE(second.fingerprint, first->fingerprint);
  EXPECT_EQ(second.spki_sha256, first->spki_sha256) << "a pinned key must stay valid";
  EXPECT_EQ(fs.files["/state/tls-cert.pem"], second.cert_pem);
  EXPECT_TRUE(logged(log, "/state/tls-cert.pem (made now) for kiosk, kiosk.local, localhost, 127.0.0.1, ::1, 192.168.1.40"));
  EXPECT_TRUE(logged(log, "certificate SHA-256 fingerprint " + second.fingerprint));
  EXPECT_FALSE(device.refresh(false, install)) << "and not again for the same names";

  machine.host = "hall-board";  // renamed
  ASSERT_TRUE(device.refresh(false, install));
  ASSERT_EQ(served.size(), 2u);
  EXPECT_TRUE(names_has(served[1], "hall-board.local"));
  EXPECT_FALSE(names_has(served[1], "kiosk"));
}

TEST_F(PageCertificateTest, TheDailyCheckRemakesItOnlyNearExpiry) {
  auto first = device.load();
  ASSERT_TRUE(first);
  EXPECT_EQ(device.next_check_in_ms(), firmware::PageCertificate::kExpiryCheckEveryS * 1000);
  clock.wall_s += firmware::PageCertificate::kExpiryCheckEveryS + 1;
  EXPECT_EQ(device.next_check_in_ms(), 0);
  EXPECT_FALSE(device.refresh(false, install)) << "a year left: kept";
  EXPECT_EQ(device.next_check_in_ms(), firmware::PageCertificate::kExpiryCheckEveryS * 1000);
  clock.wall_s += 370 * 86400;  // 397-day certificate: under 30 days left
  ASSERT_TRUE(device.refresh(false, install));
  ASSERT_EQ(served.size(), 1u);
  EXPECT_NE(served[0].fingerprint, first->fingerprint);
  EXPECT_EQ(served[0].spki_sha256, first->spki_sha256);
}

TEST_F(PageCertificateTest, MadeBeforeTheClockWasSetItIsRemadeOnceItIs) {
  clock.wall_s = 86400;  // 1970: no real-time clock, NTP has not answered
  ASSERT_TRUE(device.load());
  EXPECT_EQ(device.next_check_in_ms(), firmware::PageCertificate::kClockUnsetCheckEveryS * 1000);
  clock.wall_s = 1795000000;  // NTP answered
  EXPECT_EQ(device.next_check_in_ms(), 0);
  ASSERT_TRUE(device.refresh(false, install)) << "the 1970 certificate expired long ago";
  ASSERT_EQ(served.size(), 1u);
}

TEST_F(PageCertificateTest, ABootWithoutAClockKeepsTheCertificateOnDisk) {
  auto before = device.load();  // made while the clock was right
  ASSERT_TRUE(before);
  clock.wall_s = 86400;  // the next boot: 1970 until NTP answers
  firmware::PageCertificate rebooted{{"/state", "", ""}, fs, clock, log, [this] { return machine; }};
  auto after = rebooted.load();
  ASSERT_TRUE(after);
  EXPECT_FALSE(after->made) << "a good certificate was replaced by one dated 1970";
  EXPECT_EQ(after->fingerprint, before->fingerprint);
}

TEST_F(PageCertificateTest, AClockSteppedBackDoesNotPostponeTheCheck) {
  clock.wall_s += 400 * 86400;  // a clock that ran ahead
  ASSERT_TRUE(device.load());
  clock.wall_s -= 400 * 86400;  // NTP corrects it
  EXPECT_EQ(device.next_check_in_ms(), 0);
}

TEST_F(PageCertificateTest, AFailureKeepsTheCertificateServedAndIsTriedAgain) {
  ASSERT_TRUE(device.load());
  const std::string before = fs.files["/state/tls-cert.pem"];
  fs.fail_writes_errno = ENOSPC;
  machine.addresses.push_back("10.0.0.7");
  EXPECT_FALSE(device.refresh(false, install));
  EXPECT_TRUE(logged(log, "keeping the current certificate"));
  EXPECT_EQ(fs.files["/state/tls-cert.pem"], before);
  EXPECT_EQ(device.next_check_in_ms(), firmware::PageCertificate::kRetryAfterFailureS * 1000) << "not a day later";
  fs.fail_writes_errno = 0;

  refuse_installs = 1;  // made and saved, but the listener cannot take it
  EXPECT_FALSE(device.refresh(false, install));
  EXPECT_TRUE(served.empty());
  EXPECT_TRUE(logged(log, "cannot serve the new certificate"));
  EXPECT_NE(fs.files["/state/tls-cert.pem"], before);
  // The file on disk now names 10.0.0.7 already: what is served does not, so it is tried again.
  ASSERT_TRUE(device.refresh(false, install));
  ASSERT_EQ(served.size(), 1u);
  EXPECT_TRUE(names_has(served[0], "10.0.0.7"));
  EXPECT_EQ(served[0].cert_pem, fs.files["/state/tls-cert.pem"]);
}

TEST_F(PageCertificateTest, OwnFilesAreReadAgainOnlyOnReload) {
  // Two certificates of the person's, made here the way any CA's would arrive: PEM files.
  firmware::PageCertificate maker_a{{"/a", "", ""}, fs, clock, log, [] { return firmware::MachineNames{"one", {}}; }};
  firmware::PageCertificate maker_b{{"/b", "", ""}, fs, clock, log, [] { return firmware::MachineNames{"two", {}}; }};
  auto a = maker_a.load();
  auto b = maker_b.load();
  ASSERT_TRUE(a && b);
  fs.files["/etc/page.pem"] = a->cert_pem;
  fs.files["/etc/page.key"] = a->key_pem;
  firmware::PageCertificate own{{"/state", "/etc/page.pem", "/etc/page.key"}, fs, clock, log, [this] { return machine; }};
  auto loaded = own.load();
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ(loaded->fingerprint, a->fingerprint);
  EXPECT_FALSE(own.refresh(true, install)) << "reloaded, unchanged: nothing to serve anew";

  fs.files["/etc/page.pem"] = b->cert_pem;  // renewed by the person
  fs.files["/etc/page.key"] = b->key_pem;
  machine.addresses.push_back("192.168.1.40");
  clock.wall_s += 2 * firmware::PageCertificate::kExpiryCheckEveryS;
  EXPECT_FALSE(own.refresh(false, install)) << "their certificate is theirs: only a reload reads it";
  ASSERT_TRUE(own.refresh(true, install));
  ASSERT_EQ(served.size(), 1u);
  EXPECT_EQ(served[0].fingerprint, b->fingerprint);
  EXPECT_FALSE(fs.exists("/state/tls-cert.pem"));

  fs.files["/etc/page.pem"] = b->cert_pem + a->cert_pem;  // same leaf, a new chain behind it
  ASSERT_TRUE(own.refresh(true, install)) << "a new chain must be served too";
  ASSERT_EQ(served.size(), 2u);
  EXPECT_EQ(served[1].cert_pem, b->cert_pem + a->cert_pem);

  fs.files["/etc/page.key"] = a->key_pem;  // a half-finished renewal: the pair does not match
  EXPECT_FALSE(own.refresh(true, install));
  EXPECT_TRUE(logged(log, "keeping the current certificate"));
  EXPECT_EQ(served.size(), 2u);
}

// A serial number whose DER has a leading zero byte is padding that OpenSSL and browsers refuse:
// whatever the random bytes, the first byte is neither zero nor negative, and the rest is kept.
TEST(CertificateSerial, IsAPositiveIntegerInMinimalDerForAnyRandomBytes) {
  for (int first = 0; first < 256; ++first) {
    for (int second : {0x00, 0x7f, 0x80, 0xff}) {
      unsigned char serial[16] = {static_cast<unsigned char>(first), static_cast<unsigned char>(second), 1, 2, 3};
      platform::make_serial_minimal_positive(serial);
      EXPECT_NE(serial[0], 0) << "first random byte " << first << ": DER padding";
      EXPECT_LT(serial[0], 0x80) << "first random byte " << first << ": a negative serial";
      EXPECT_EQ(serial[1], second);
      EXPECT_EQ(serial[4], 3);
    }
  }
}
