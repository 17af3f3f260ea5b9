#include "ratelimit/gcra.h"

#include <gtest/gtest.h>

namespace pier::ratelimit {
namespace {

constexpr std::int64_t kSecond = 1'000'000;

TEST(Gcra, ExactlyBurstPassAtOnceThenOnePerInterval) {
  Limit limit = make_limit(10, kSecond, 5);  // 10/s, burst 5: T = 100 ms
  ASSERT_EQ(limit.interval_us, 100'000);
  std::int64_t tat = 0;
  const std::int64_t t0 = 50 * kSecond;
  int allowed = 0;
  for (int i = 0; i < 50; ++i) {
    Decision d = decide(limit, tat, t0);
    if (d.allowed) ++allowed;
    tat = d.tat_us;
  }
  EXPECT_EQ(allowed, 5);
  // Then one per 100 ms: not at +99 ms, yes at +100 ms.
  EXPECT_FALSE(decide(limit, tat, t0 + 99'999).allowed);
  Decision next = decide(limit, tat, t0 + 100'000);
  EXPECT_TRUE(next.allowed);
  EXPECT_FALSE(decide(limit, next.tat_us, t0 + 100'000).allowed);
}

TEST(Gcra, RemainingRetryAfterAndReset) {
  Limit limit = make_limit(1, kSecond, 3);  // 1/s, burst 3
  Decision a = decide(limit, 0, 10 * kSecond);
  EXPECT_TRUE(a.allowed);
  EXPECT_EQ(a.remaining, 2);
  EXPECT_EQ(a.reset_us, kSecond);
  Decision b = decide(limit, a.tat_us, 10 * kSecond);
  EXPECT_EQ(b.remaining, 1);
  Decision c = decide(limit, b.tat_us, 10 * kSecond);
  EXPECT_TRUE(c.allowed);
  EXPECT_EQ(c.remaining, 0);
  EXPECT_EQ(c.reset_us, 3 * kSecond);
  Decision d = decide(limit, c.tat_us, 10 * kSecond + 250'000);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_us, 750'000);
  EXPECT_EQ(d.tat_us, c.tat_us);  // a denial changes nothing
  EXPECT_EQ(d.reset_us, 2'750'000);
}

TEST(Gcra, AnOldTatIsAFullBucket) {
  Limit limit = make_limit(100, kSecond, 10);
  Decision d = decide(limit, 5 * kSecond, 100 * kSecond);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 9);
}

TEST(Gcra, SustainedRateIsTheConfiguredOne) {
  Limit limit = make_limit(6000, 60 * kSecond, 1);  // 6000/m = 100/s, no burst
  std::int64_t tat = 0;
  int allowed = 0;
  for (std::int64_t t = 0; t < 10 * kSecond; t += 1000) {  // a request every millisecond
    Decision d = decide(limit, tat, kSecond + t);
    if (d.allowed) ++allowed;
    tat = d.tat_us;
  }
  EXPECT_EQ(allowed, 1000);  // 100/s for 10 s
}

}  // namespace
}  // namespace pier::ratelimit
