#include "proxy/client_ip.h"

#include <gtest/gtest.h>

namespace pier::proxy {
namespace {

CidrSet trusted() {
  CidrSet set;
  set.add(*Cidr::parse("10.0.0.0/8"));
  set.add(*Cidr::parse("::1/128"));
  return set;
}

TEST(ClientIp, AnUntrustedPeerIsTheClientWhateverItClaims) {
  http::HeaderList h{{"X-Forwarded-For", "1.2.3.4"}};
  EXPECT_EQ(client_ip("203.0.113.9", false, h, trusted()), "203.0.113.9");
}

TEST(ClientIp, BehindTrustedProxiesTheRightMostUntrustedAddress) {
  http::HeaderList h{{"X-Forwarded-For", "6.6.6.6, 198.51.100.7, 10.1.1.1"}};
  EXPECT_EQ(client_ip("10.0.0.2", true, h, trusted()), "198.51.100.7");
}

TEST(ClientIp, SeveralFieldLinesAreOneList) {
  http::HeaderList h{{"X-Forwarded-For", "6.6.6.6"},
                     {"Host", "x"},
                     {"x-forwarded-for", "198.51.100.7 , 10.2.2.2"}};
  EXPECT_EQ(client_ip("10.0.0.2", true, h, trusted()), "198.51.100.7");
}

TEST(ClientIp, AllTrustedMeansTheLeftMost) {
  http::HeaderList h{{"X-Forwarded-For", "10.9.9.9, 10.1.1.1"}};
  EXPECT_EQ(client_ip("10.0.0.2", true, h, trusted()), "10.9.9.9");
}

TEST(ClientIp, NoHeaderFromATrustedPeerIsThePeer) {
  EXPECT_EQ(client_ip("10.0.0.2", true, {}, trusted()), "10.0.0.2");
}

TEST(ClientIp, GarbageIsNotTrusted) {
  http::HeaderList h{{"X-Forwarded-For", "1.1.1.1, unknown, 10.1.1.1"}};
  EXPECT_EQ(client_ip("10.0.0.2", true, h, trusted()), "unknown");
}

}  // namespace
}  // namespace pier::proxy
