#include "telemetry/access_log.h"

#include <gtest/gtest.h>

namespace pier::telemetry {
namespace {

AccessRecord sample() {
  AccessRecord r;
  r.time_us = 1764114935123456;  // 2025-11-25T23:55:35.123456Z
  r.request_id = "0123456789abcdef";
  r.client = "127.0.0.1";
  r.method = "GET";
  r.host = "example.com";
  r.path = "/a?b=\"c\"";
  r.status = 200;
  r.bytes_in = 80;
  r.bytes_out = 1234;
  r.duration_us = 1500;
  r.upstream = "127.0.0.1:9001";
  r.upstream_connect_us = 250;
  r.upstream_header_us = 1000;
  r.attempts = 1;
  r.cache = "fwd=miss; stored";
  r.rate_limit = "allowed";
  r.user_agent = "curl/7.88\x01";
  return r;
}

TEST(AccessLog, JsonLine) {
  std::string out;
  format_json(sample(), out);
  EXPECT_EQ(out,
            "{\"time\":\"2025-11-25T23:55:35.123Z\",\"request_id\":\"0123456789abcdef\","
            "\"client\":\"127.0.0.1\",\"method\":\"GET\",\"host\":\"example.com\","
            "\"path\":\"/a?b=\\\"c\\\"\",\"protocol\":\"HTTP/1.1\",\"status\":200,"
            "\"bytes_in\":80,\"bytes_out\":1234,\"duration_ms\":1.500,"
            "\"upstream\":\"127.0.0.1:9001\",\"upstream_connect_ms\":0.250,"
            "\"upstream_header_ms\":1.000,\"attempts\":1,\"cache\":\"fwd=miss; stored\","
            "\"rate_limit\":\"allowed\",\"user_agent\":\"curl/7.88\\u0001\"}\n");
}

TEST(AccessLog, JsonWithoutUpstreamTimes) {
  AccessRecord r = sample();
  r.upstream = "";
  r.upstream_connect_us = r.upstream_header_us = -1;
  std::string out;
  format_json(r, out);
  EXPECT_NE(out.find("\"upstream\":\"\",\"upstream_connect_ms\":null,\"upstream_header_ms\":null"),
            std::string::npos)
      << out;
}

TEST(AccessLog, CombinedLine) {
  std::string out;
  format_combined(sample(), out);
  EXPECT_EQ(out,
            "127.0.0.1 - - [25/Nov/2025:23:55:35 +0000] \"GET /a?b=\\x22c\\x22 HTTP/1.1\" 200 1234 "
            "\"-\" \"curl/7.88\\x01\" \"0123456789abcdef\" 1.500\n");
}

TEST(LineRing, PushDrainAndWrapAround) {
  LineRing ring(64);
  std::string out;
  for (int round = 0; round < 20; ++round) {
    EXPECT_TRUE(ring.push("line one\n"));
    EXPECT_TRUE(ring.push("two\n"));
    out.clear();
    ring.drain(out);
    EXPECT_EQ(out, "line one\ntwo\n");
  }
}

TEST(LineRing, FullDropsTheLine) {
  LineRing ring(32);
  EXPECT_TRUE(ring.push(std::string(20, 'a')));   // 24 bytes used
  EXPECT_FALSE(ring.push(std::string(10, 'b')));  // 14 more do not fit
  std::string out;
  ring.drain(out);
  EXPECT_EQ(out, std::string(20, 'a'));
  EXPECT_TRUE(ring.push(std::string(10, 'b')));
}

}  // namespace
}  // namespace pier::telemetry
