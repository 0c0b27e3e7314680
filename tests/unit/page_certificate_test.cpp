// The HTTPS page's certificate while the agent runs: made again for new addresses or near expiry
// (same key), left alone otherwise; the person's own files only on reload; a failure keeps the
// certificate in use.
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
};

}  // namespace

TEST_F(PageCertificateTest, ANewAddressMakesItAgainWithTheSameKey) {
  auto first = device.load();
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_TRUE(names_has(*first, "kiosk.local"));
  EXPECT_FALSE(names_has(*first, "192.168.1.40"));
  EXPECT_FALSE(device.refresh(false)) << "nothing changed";

  machine.addresses.push_back("192.168.1.40");  // DHCP answered after start-up
  auto second = device.refresh(false);
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->made);
  EXPECT_TRUE(names_has(*second, "192.168.1.40"));
  EXPECT_NE(second->fingerprint, first->fingerprint);
  EXPECT_EQ(second->spki_sha256, first->spki_sha256) << "a pinned key must stay valid";
  EXPECT_EQ(fs.files["/state/tls-cert.pem"], second->cert_pem);
  EXPECT_TRUE(logged(log, "/state/tls-cert.pem (made now) for kiosk, kiosk.local, localhost, 127.0.0.1, ::1, 192.168.1.40"));
  EXPECT_TRUE(logged(log, "certificate SHA-256 fingerprint " + second->fingerprint));
  EXPECT_FALSE(device.refresh(false)) << "and not again for the same names";

  machine.host = "hall-board";  // renamed
  auto third = device.refresh(false);
  ASSERT_TRUE(third);
  EXPECT_TRUE(names_has(*third, "hall-board.local"));
  EXPECT_FALSE(names_has(*third, "kiosk"));
}

TEST_F(PageCertificateTest, TheDailyCheckRemakesItOnlyNearExpiry) {
  auto first = device.load();
  ASSERT_TRUE(first);
  clock.wall_s += firmware::PageCertificate::kExpiryCheckEveryS + 1;
  EXPECT_FALSE(device.refresh(false)) << "a year left: kept";
  clock.wall_s += 370 * 86400;  // 397-day certificate: under 30 days left
  auto renewed = device.refresh(false);
  ASSERT_TRUE(renewed);
  EXPECT_TRUE(renewed->made);
  EXPECT_NE(renewed->fingerprint, first->fingerprint);
  EXPECT_EQ(renewed->spki_sha256, first->spki_sha256);
}

TEST_F(PageCertificateTest, AFailureKeepsTheCertificateInUse) {
  ASSERT_TRUE(device.load());
  const std::string before = fs.files["/state/tls-cert.pem"];
  fs.fail_writes_errno = ENOSPC;
  machine.addresses.push_back("10.0.0.7");
  EXPECT_FALSE(device.refresh(false));
  EXPECT_TRUE(logged(log, "keeping the current certificate"));
  EXPECT_EQ(fs.files["/state/tls-cert.pem"], before);
  fs.fail_writes_errno = 0;
  auto later = device.refresh(false);  // the next look tries again
  ASSERT_TRUE(later);
  EXPECT_TRUE(names_has(*later, "10.0.0.7"));
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

  fs.files["/etc/page.pem"] = b->cert_pem;  // renewed by the person
  fs.files["/etc/page.key"] = b->key_pem;
  machine.addresses.push_back("192.168.1.40");
  EXPECT_FALSE(own.refresh(false)) << "their certificate is theirs: no address change remakes it";
  auto reloaded = own.refresh(true);
  ASSERT_TRUE(reloaded);
  EXPECT_EQ(reloaded->fingerprint, b->fingerprint);
  EXPECT_FALSE(fs.exists("/state/tls-cert.pem"));

  fs.files["/etc/page.key"] = a->key_pem;  // a half-finished renewal: the pair does not match
  EXPECT_FALSE(own.refresh(true));
  EXPECT_TRUE(logged(log, "keeping the current certificate"));
}
