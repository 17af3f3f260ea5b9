#include "telemetry/prometheus.h"

#include <gtest/gtest.h>

namespace pier::telemetry {
namespace {

TEST(Prometheus, FamiliesAndSamples) {
  std::string out;
  PromWriter w(out);
  w.family("pier_requests_total", "counter", "Requests answered.");
  w.sample("pier_requests_total", {{"route", "0"}, {"code", "2xx"}}, std::uint64_t{42});
  w.family("pier_up", "gauge", "1 when up.");
  w.sample("pier_up", {}, 1.0);
  EXPECT_EQ(out,
            "# HELP pier_requests_total Requests answered.\n"
            "# TYPE pier_requests_total counter\n"
            "pier_requests_total{route=\"0\",code=\"2xx\"} 42\n"
            "# HELP pier_up 1 when up.\n"
            "# TYPE pier_up gauge\n"
            "pier_up 1\n");
}

TEST(Prometheus, LabelValuesAreEscaped) {
  std::string out;
  PromWriter w(out);
  w.sample("m", {{"v", "a\"b\\c\nd"}}, 0.5);
  EXPECT_EQ(out, "m{v=\"a\\\"b\\\\c\\nd\"} 0.5\n");
}

TEST(Prometheus, HistogramIsCumulativeInSeconds) {
  Histogram h;
  h.observe(400);         // <= 0.5 ms
  h.observe(700);         // <= 1 ms
  h.observe(20'000'000);  // +Inf
  HistogramSnapshot s;
  s.add(h);
  std::string out;
  PromWriter w(out);
  w.histogram("lat", {{"route", "r"}}, s);
  EXPECT_NE(out.find("lat_bucket{route=\"r\",le=\"0.0005\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("lat_bucket{route=\"r\",le=\"0.001\"} 2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("lat_bucket{route=\"r\",le=\"10\"} 2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("lat_bucket{route=\"r\",le=\"+Inf\"} 3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("lat_sum{route=\"r\"} 20.0011\n"), std::string::npos) << out;
  EXPECT_NE(out.find("lat_count{route=\"r\"} 3\n"), std::string::npos) << out;
}

TEST(Histogram, QuantilesInterpolateWithinBuckets) {
  Histogram h;
  for (int i = 0; i < 100; ++i)
    h.observe(2000);  // all in (1 ms, 2.5 ms]
  HistogramSnapshot s;
  s.add(h);
  EXPECT_NEAR(s.quantile_us(0.5), 1750, 1);
  EXPECT_NEAR(s.quantile_us(0.99), 2485, 1);
  EXPECT_EQ(HistogramSnapshot().quantile_us(0.5), 0);
  HistogramSnapshot later = s;
  later.buckets[0] += 10;
  EXPECT_EQ(later.minus(s).count(), 10u);
}

}  // namespace
}  // namespace pier::telemetry
