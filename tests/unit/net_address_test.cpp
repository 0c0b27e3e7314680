// IP literals as inet_pton reads them, and what the URL validator makes of the rest.
#include "platform/net_address.hpp"

#include <gtest/gtest.h>

#include "firmware/model/url.hpp"

namespace tracklight {
namespace {

TEST(NetAddress, IpLiteralsAreDecidedLikeTheSocketLayer) {
  for (const char* yes : {"127.0.0.1", "0.0.0.0", "255.255.255.255", "::1", "::", "fe80::1", "2001:db8::8a2e:370:7334",
                          "::ffff:1.2.3.4", "1:2:3:4:5:6:7:8"}) {
    EXPECT_TRUE(platform::parse_ip_literal(yes)) << yes;
  }
  for (const char* no : {"1:2", "1.2.3", "01.2.3.4", "256.1.1.1", "1.2.3.4.5", "fe80::1%eth0", "1::2::3", ":::",
                         "[::1]", "0x7f.0.0.1", "localhost", "", " 1.2.3.4", "1.2.3.4 "}) {
    EXPECT_FALSE(platform::parse_ip_literal(no)) << no;
  }
  EXPECT_FALSE(platform::parse_ip_literal(std::string("1.2.3.4\0x", 9))) << "an embedded NUL hides the rest";
  std::string bytes;
  ASSERT_TRUE(platform::parse_ip_literal("::ffff:1.2.3.4", &bytes));
  EXPECT_EQ(bytes, std::string("\0\0\0\0\0\0\0\0\0\0\xff\xff\x01\x02\x03\x04", 16));
  ASSERT_TRUE(platform::parse_ip_literal("10.1.2.3", &bytes));
  EXPECT_EQ(bytes, "\x0a\x01\x02\x03");
}

TEST(NetAddress, OnlyFourOrSixteenBytesFormatAsAnAddress) {
  EXPECT_EQ(platform::format_ip(std::string("\x7f\x00\x00\x01", 4)), "127.0.0.1");
  EXPECT_EQ(platform::format_ip(std::string(15, '\0') + "\x01"), "::1");
  for (size_t len : {0u, 1u, 3u, 5u, 8u, 15u, 17u, 32u})
    EXPECT_EQ(platform::format_ip(std::string(len, '\x01')), "") << len;
}

TEST(Url, HostsThatTheResolverWouldReadAsAddressesAreRefused) {
  firmware::Url u;
  for (const char* bad : {"https://[1:2]/", "https://[fe80::1%25eth0]/", "https://[1.2.3.4]/", "https://01.2.3.4/",
                          "https://1.2.3/", "https://256.1.1.1/", "https://0x7f.1/", "https://2130706433/"}) {
    EXPECT_NE(firmware::parse_url(bad, u), "") << bad;
  }
  EXPECT_NE(firmware::parse_url("https://01.2.3.4/", u).find("neither a valid IPv4 address"), std::string::npos);
  ASSERT_EQ(firmware::parse_url("https://[::ffff:1.2.3.4]:8443/jira", u), "");
  EXPECT_TRUE(u.host_is_ip);
  EXPECT_EQ(u.host, "::ffff:1.2.3.4");
  ASSERT_EQ(firmware::parse_url("https://10.0.0.7", u), "");
  EXPECT_TRUE(u.host_is_ip);
  ASSERT_EQ(firmware::parse_url("https://jira.example.com", u), "");
  EXPECT_FALSE(u.host_is_ip);
  EXPECT_TRUE(firmware::valid_host_name("build-01.lan"));
  EXPECT_TRUE(firmware::valid_host_name("0x7f.example"));  // only the last label decides
  EXPECT_FALSE(firmware::valid_host_name("10.0.0.300"));
}

}  // namespace
}  // namespace tracklight
