#include "firmware/store/device_seal.hpp"

#include <gtest/gtest.h>

#include "firmware/model/text.hpp"
#include "platform/crypto.hpp"
#include "tests/support/fakes.hpp"

namespace tracklight::firmware {
namespace {

std::string unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

ProvisioningKey key_of(char fill) {
  auto k = ProvisioningKey::from_private(std::string(32, fill));
  EXPECT_TRUE(k.ok());
  return *k;
}

// RFC 7748 section 6.1: Alice and Bob.
TEST(DeviceSeal, X25519MatchesTheRfcVectors) {
  const std::string alice = unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  const std::string bob = unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  auto alice_pub = platform::x25519_public(alice);
  auto bob_pub = platform::x25519_public(bob);
  ASSERT_TRUE(alice_pub.ok() && bob_pub.ok());
  EXPECT_EQ(to_hex(*alice_pub), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  EXPECT_EQ(to_hex(*bob_pub), "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  auto shared = platform::x25519_shared(alice, *bob_pub);
  ASSERT_TRUE(shared.ok());
  EXPECT_EQ(to_hex(*shared), "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  EXPECT_FALSE(platform::x25519_shared(alice, std::string(32, '\0')).ok());  // small order
  EXPECT_FALSE(platform::x25519_shared(alice, "short").ok());
}

// RFC 5869 test case 1.
TEST(DeviceSeal, HkdfMatchesTheRfcVector) {
  auto okm = platform::hkdf_sha256(unhex("000102030405060708090a0b0c"), std::string(22, '\x0b'),
                                   unhex("f0f1f2f3f4f5f6f7f8f9"), 42);
  ASSERT_TRUE(okm.ok());
  EXPECT_EQ(to_hex(*okm), "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(DeviceSeal, PublicKeyLineRoundTrips) {
  ProvisioningKey k = key_of('a');
  const std::string line = k.public_key().text();
  EXPECT_EQ(line.rfind("x25519:", 0), 0u);
  EXPECT_EQ(line.size(), 7u + 64u);
  auto parsed = parse_device_public_key("  " + line + "\n");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->raw, k.public_key().raw);
  EXPECT_EQ(parsed->fingerprint().size(), 16u);
  for (const char* bad : {"", "x25519:", "x25519:zz", "ed25519:00", "x25519:0123"})
    EXPECT_FALSE(parse_device_public_key(bad).ok()) << bad;
  EXPECT_FALSE(parse_device_public_key(line.substr(0, line.size() - 1) + "g").ok());
  // Low-order points (0 and 1, RFC 7748's "all zero" outputs) are refused as bad input, by name.
  for (const std::string& low : {"x25519:" + std::string(64, '0'), "x25519:01" + std::string(62, '0')}) {
    auto r = parse_device_public_key(low);
    ASSERT_FALSE(r.ok()) << low;
    EXPECT_EQ(r.error().code, ErrorCode::BadInput);
    EXPECT_NE(r.error().detail.find("low-order"), std::string::npos) << r.error().detail;
  }
}

struct SealTest : ::testing::Test {
  test::CountingEntropy entropy;
  ProvisioningKey receiver = key_of('r');
  ProvisioningKey other = key_of('o');
  std::string sealed(const std::string& context, const std::string& plain) {
    auto v = seal_for_device(receiver.public_key(), context, plain, entropy);
    EXPECT_TRUE(v.ok());
    return *v;
  }
};

TEST_F(SealTest, OpensOnTheReceivingDeviceOnly) {
  const std::string v = sealed("jira-main/api_key", "CANARY-SECRET");
  EXPECT_EQ(v.rfind("sealed-for:" + receiver.public_key().fingerprint() + ":", 0), 0u);
  EXPECT_EQ(v.find("CANARY"), std::string::npos);
  auto plain = receiver.open("jira-main/api_key", v);
  ASSERT_TRUE(plain.ok()) << plain.error().message();
  EXPECT_EQ(*plain, "CANARY-SECRET");
  EXPECT_NE(sealed("jira-main/api_key", "CANARY-SECRET"), v);  // a new ephemeral key and nonce each time

  auto refused = other.open("jira-main/api_key", v);
  ASSERT_FALSE(refused.ok());
  const std::string why = refused.error().detail;
  EXPECT_NE(why.find("sealed for another device"), std::string::npos) << why;
  EXPECT_NE(why.find(receiver.public_key().fingerprint()), std::string::npos) << why;
  EXPECT_NE(why.find(other.public_key().fingerprint()), std::string::npos) << why;
  EXPECT_EQ(why.find("CANARY"), std::string::npos);
}

TEST_F(SealTest, BoundToConnectionAndField) {
  const std::string v = sealed("jira-main/api_key", "CANARY-SECRET");
  for (const char* context : {"jira-main/token", "jira-other/api_key", "jira-main/header/x-token"}) {
    auto moved = receiver.open(context, v);
    ASSERT_FALSE(moved.ok()) << context;
    EXPECT_NE(moved.error().detail.find("cannot be opened"), std::string::npos);
  }
}

TEST_F(SealTest, TamperedValueIsRefused) {
  const std::string v = sealed("jira-main/api_key", "CANARY-SECRET");
  auto raw = platform::base64_decode(v.substr(v.rfind(':') + 1));
  ASSERT_TRUE(raw.ok());
  const std::string prefix = v.substr(0, v.rfind(':') + 1);
  for (size_t at : {size_t{0}, size_t{40}, raw->size() - 1}) {  // ephemeral key, nonce, tag
    std::string bent = *raw;
    bent[at] = static_cast<char>(bent[at] ^ 1);
    EXPECT_FALSE(receiver.open("jira-main/api_key", prefix + platform::base64_encode(bent)).ok()) << at;
  }
  EXPECT_FALSE(receiver.open("jira-main/api_key", prefix + "not base64!").ok());
  EXPECT_FALSE(receiver.open("jira-main/api_key", prefix + platform::base64_encode(raw->substr(0, 50))).ok());
  EXPECT_FALSE(receiver.open("jira-main/api_key", "sealed-for:XYZ:" + v.substr(v.rfind(':') + 1)).ok());
}

// The fingerprint is only a label: a value relabelled for another device still does not open
// there, because the recipient's key is part of the associated data and the key derivation.
TEST_F(SealTest, RelabelledFingerprintDoesNotOpen) {
  const std::string v = sealed("jira-main/api_key", "CANARY-SECRET");
  const std::string relabelled = "sealed-for:" + other.public_key().fingerprint() + v.substr(v.rfind(':'));
  EXPECT_FALSE(other.open("jira-main/api_key", relabelled).ok());
}

TEST(ProvisioningKeyFile, MadeOnceAndKept) {
  test::MemoryFs fs;
  test::CountingEntropy entropy;
  EXPECT_EQ(load_provisioning_key(fs, "state").error().code, ErrorCode::NotFound);
  auto first = load_or_create_provisioning_key(fs, entropy, "state", ".tmp");
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(fs.exists("state/provisioning.key"));
  auto again = load_or_create_provisioning_key(fs, entropy, "state", ".tmp");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->public_key().text(), first->public_key().text());
  fs.files["state/provisioning.key"] = "damaged\n";
  EXPECT_FALSE(load_provisioning_key(fs, "state").ok());
}

// The agent (for the page) and `tracklight device-key` may both find no key and both make one.
// The one written first must stay: its public part may already be printed for an export.
struct RacingFs : test::MemoryFs {
  std::string made_meanwhile;
  bool exists(const std::string& path) override {
    if (path.find("provisioning.key") == std::string::npos || made_meanwhile.empty()) return MemoryFs::exists(path);
    files[path] = made_meanwhile;  // the other process writes it right after our check
    made_meanwhile.clear();
    return false;
  }
};

TEST(ProvisioningKeyFile, AKeyMadeMeanwhileByAnotherProcessIsKept) {
  test::MemoryFs other_fs;
  test::CountingEntropy other_entropy;
  auto theirs = load_or_create_provisioning_key(other_fs, other_entropy, "state", ".edit.tmp");
  ASSERT_TRUE(theirs.ok());
  RacingFs fs;
  fs.made_meanwhile = other_fs.files["state/provisioning.key"];
  test::CountingEntropy entropy;
  entropy.state = 12345;  // would make a different key
  auto ours = load_or_create_provisioning_key(fs, entropy, "state", ".tmp");
  ASSERT_TRUE(ours.ok()) << ours.error().message();
  EXPECT_EQ(ours->public_key().text(), theirs->public_key().text());
  EXPECT_EQ(fs.files["state/provisioning.key"], other_fs.files["state/provisioning.key"]);
}

}  // namespace
}  // namespace tracklight::firmware
