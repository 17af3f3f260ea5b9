#include "base/cidr.h"

#include <gtest/gtest.h>

namespace pier {
namespace {

TEST(Cidr, Ipv4RangeContainsOnlyItsAddresses) {
  auto cidr = Cidr::parse("10.1.0.0/16");
  ASSERT_TRUE(cidr);
  EXPECT_TRUE(cidr->contains(*parse_ip("10.1.200.3")));
  EXPECT_FALSE(cidr->contains(*parse_ip("10.2.0.1")));
  EXPECT_FALSE(cidr->contains(*parse_ip("::1")));
}

TEST(Cidr, HostBitsInTheNetworkAreIgnored) {
  auto cidr = Cidr::parse("127.0.0.1/8");
  ASSERT_TRUE(cidr);
  EXPECT_TRUE(cidr->contains(*parse_ip("127.9.9.9")));
}

TEST(Cidr, SingleAddressesAndIpv6) {
  EXPECT_TRUE(Cidr::parse("192.168.1.1")->contains(*parse_ip("192.168.1.1")));
  EXPECT_FALSE(Cidr::parse("192.168.1.1")->contains(*parse_ip("192.168.1.2")));
  EXPECT_TRUE(Cidr::parse("fd00::/8")->contains(*parse_ip("fd12::5")));
  EXPECT_TRUE(Cidr::parse("::/0")->contains(*parse_ip("1.2.3.4")));
}

TEST(Cidr, RefusesBadInput) {
  EXPECT_FALSE(Cidr::parse("10.0.0.0/33"));
  EXPECT_FALSE(Cidr::parse("10.0.0/8"));
  EXPECT_FALSE(Cidr::parse("host/8"));
  EXPECT_FALSE(Cidr::parse("::1/129"));
}

}  // namespace
}  // namespace pier
