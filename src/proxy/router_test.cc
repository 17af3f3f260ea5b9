#include "proxy/router.h"

#include <gtest/gtest.h>

namespace pier::proxy {
namespace {

RouteOptions route(HostMatchKind kind, std::string host, std::string prefix, std::size_t index) {
  RouteOptions r;
  r.host_kind = kind;
  r.host = std::move(host);
  r.path_prefix = std::move(prefix);
  r.cluster_index = index;
  return r;
}

TEST(Router, FirstMatchingRouteWins) {
  Router router({route(HostMatchKind::Exact, "api.example.com", "/v1/", 1),
                 route(HostMatchKind::Suffix, ".example.com", "/", 2),
                 route(HostMatchKind::Any, "", "/static/", 3),
                 route(HostMatchKind::Any, "", "/", 4)});
  EXPECT_EQ(router.match("api.example.com", "/v1/users")->cluster_index, 1u);
  EXPECT_EQ(router.match("API.Example.com:8080", "/v1/x")->cluster_index, 1u);
  EXPECT_EQ(router.match("api.example.com", "/v2/")->cluster_index, 2u);
  EXPECT_EQ(router.match("www.example.com", "/static/a.css")->cluster_index, 2u);
  EXPECT_EQ(router.match("example.com", "/static/a.css")->cluster_index, 3u);
  EXPECT_EQ(router.match("other.org", "/")->cluster_index, 4u);
}

TEST(Router, NoMatchIsNull) {
  Router router({route(HostMatchKind::Exact, "a.test", "/", 0)});
  EXPECT_EQ(router.match("b.test", "/"), nullptr);
  EXPECT_EQ(router.match("a.test.evil", "/"), nullptr);
}

TEST(Router, SuffixNeedsASubdomain) {
  Router router({route(HostMatchKind::Suffix, ".example.com", "/", 0)});
  EXPECT_EQ(router.match("example.com", "/"), nullptr);
  EXPECT_EQ(router.match("badexample.com", "/"), nullptr);
  EXPECT_NE(router.match("a.b.example.com", "/"), nullptr);
}

TEST(Router, StripPortHandlesIpv6) {
  EXPECT_EQ(strip_port("[::1]:8080"), "[::1]");
  EXPECT_EQ(strip_port("[::1]"), "[::1]");
  EXPECT_EQ(strip_port("host:1"), "host");
  EXPECT_EQ(strip_port("host"), "host");
}

}  // namespace
}  // namespace pier::proxy
