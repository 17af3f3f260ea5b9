#include "proxy/retry_policy.h"

#include <gtest/gtest.h>

namespace pier::proxy {
namespace {

using namespace std::chrono_literals;
using http::Method;

// Everything enabled, three attempts; each test narrows what it is about. Set explicitly rather
// than taken from the defaults, which are the config's business.
upstream::RetryOptions all_enabled() {
  upstream::RetryOptions o;
  o.attempts = 3;
  o.on_connect_failure = true;
  o.on_reset = true;
  o.on_timeout = true;
  o.on_statuses = {502, 503};
  o.backoff_base = 25ms;
  o.backoff_max = 250ms;
  return o;
}

AttemptOutcome outcome(Failure failure, Method method = Method::Get, Reached reached = Reached::Yes,
                       Replayable replayable = Replayable::Yes, std::uint32_t attempts_done = 1,
                       int status = 0) {
  AttemptOutcome o{failure};
  o.method = method;
  o.reached = reached;
  o.replayable = replayable;
  o.attempts_done = attempts_done;
  o.status = status;
  return o;
}

TEST(MayRetry, IdempotentReplayableRequestIsRetriedForEachEnabledKind) {
  auto options = all_enabled();
  EXPECT_TRUE(may_retry(options, outcome(Failure::ConnectFailure)));
  EXPECT_TRUE(may_retry(options, outcome(Failure::Reset)));
  EXPECT_TRUE(may_retry(options, outcome(Failure::Timeout)));
  EXPECT_TRUE(may_retry(
      options, outcome(Failure::Status, Method::Get, Reached::Yes, Replayable::Yes, 1, 503)));
}

TEST(MayRetry, ExhaustedAttemptsAreNotRetried) {
  auto options = all_enabled();
  EXPECT_TRUE(
      may_retry(options, outcome(Failure::Reset, Method::Get, Reached::Yes, Replayable::Yes, 2)));
  EXPECT_FALSE(
      may_retry(options, outcome(Failure::Reset, Method::Get, Reached::Yes, Replayable::Yes, 3)));
  EXPECT_FALSE(may_retry(
      options, outcome(Failure::ConnectFailure, Method::Get, Reached::No, Replayable::Yes, 3)));
  options.attempts = 1;
  EXPECT_FALSE(may_retry(options, outcome(Failure::ConnectFailure, Method::Get, Reached::No)));
}

TEST(MayRetry, KindsNotEnabledAreNotRetried) {
  auto options = all_enabled();
  options.on_connect_failure = false;
  EXPECT_FALSE(may_retry(options, outcome(Failure::ConnectFailure, Method::Get, Reached::No)));
  options = all_enabled();
  options.on_reset = false;
  EXPECT_FALSE(may_retry(options, outcome(Failure::Reset)));
  options = all_enabled();
  options.on_timeout = false;
  EXPECT_FALSE(may_retry(options, outcome(Failure::Timeout)));
  options = all_enabled();
  EXPECT_FALSE(may_retry(
      options, outcome(Failure::Status, Method::Get, Reached::Yes, Replayable::Yes, 1, 504)));
  EXPECT_FALSE(may_retry(
      options, outcome(Failure::Status, Method::Get, Reached::Yes, Replayable::Yes, 1, 500)));
}

TEST(MayRetry, RequestThatNeverReachedTheBackendIsRetriedWhateverItsMethod) {
  auto options = all_enabled();
  for (Method m : {Method::Get, Method::Post, Method::Patch, Method::Connect, Method::Other}) {
    EXPECT_TRUE(may_retry(options, outcome(Failure::ConnectFailure, m, Reached::No)))
        << static_cast<int>(m);
    EXPECT_TRUE(
        may_retry(options, outcome(Failure::ConnectFailure, m, Reached::No, Replayable::No)))
        << static_cast<int>(m);
    EXPECT_TRUE(may_retry(options, outcome(Failure::Reset, m, Reached::No))) << static_cast<int>(m);
  }
}

TEST(MayRetry, NonIdempotentRequestThatReachedTheBackendIsNotRetried) {
  auto options = all_enabled();
  for (Method m : {Method::Post, Method::Patch, Method::Connect, Method::Other}) {
    for (Failure f : {Failure::ConnectFailure, Failure::Reset, Failure::Timeout}) {
      EXPECT_FALSE(may_retry(options, outcome(f, m, Reached::Yes)))
          << static_cast<int>(m) << " " << static_cast<int>(f);
    }
    EXPECT_FALSE(
        may_retry(options, outcome(Failure::Status, m, Reached::Yes, Replayable::Yes, 1, 502)));
  }
}

TEST(MayRetry, IdempotencyKeyMakesANonIdempotentRequestRetryableOnlyWhenAllowed) {
  auto options = all_enabled();
  AttemptOutcome post = outcome(Failure::Reset, Method::Post);
  post.idempotency_key = true;
  EXPECT_FALSE(may_retry(options, post)) << "retry.idempotency_key is off by default";
  options.idempotency_key = true;
  EXPECT_TRUE(may_retry(options, post));
  post.idempotency_key = false;
  EXPECT_FALSE(may_retry(options, post)) << "no key, no retry";
  EXPECT_TRUE(may_repeat(options, Method::Get, false));
  EXPECT_FALSE(may_repeat(options, Method::Patch, false));
}

TEST(MayRetry, IdempotentMethodsThatReachedTheBackendAreRetried) {
  auto options = all_enabled();
  for (Method m :
       {Method::Get, Method::Head, Method::Put, Method::Delete, Method::Options, Method::Trace}) {
    EXPECT_TRUE(may_retry(options, outcome(Failure::Reset, m))) << static_cast<int>(m);
  }
}

TEST(MayRetry, RequestWhoseBodyCannotBeReplayedIsNotRetried) {
  auto options = all_enabled();
  EXPECT_FALSE(
      may_retry(options, outcome(Failure::Reset, Method::Get, Reached::Yes, Replayable::No)));
  EXPECT_FALSE(may_retry(
      options, outcome(Failure::Status, Method::Put, Reached::Yes, Replayable::No, 1, 502)));
}

Duration ceiling(const upstream::RetryOptions& o, std::uint32_t retry) {
  Duration c = o.backoff_base;
  for (std::uint32_t i = 1; i < retry && c < o.backoff_max; ++i)
    c *= 2;
  return std::min(c, o.backoff_max);
}

TEST(RetryBackoff, StaysWithinZeroAndTheDoublingCeiling) {
  auto options = all_enabled();  // 25ms..250ms: ceilings 25, 50, 100, 200, 250, 250...
  balancing::Rng rng(3);
  for (std::uint32_t retry = 1; retry <= 8; ++retry) {
    Duration limit = ceiling(options, retry);
    Duration highest = Duration::zero();
    for (int i = 0; i < 2000; ++i) {
      Duration d = retry_backoff(options, retry, rng);
      ASSERT_GE(d, Duration::zero()) << "retry " << retry;
      ASSERT_LE(d, limit) << "retry " << retry;
      highest = std::max(highest, d);
    }
    EXPECT_GT(highest, limit * 9 / 10) << "retry " << retry << ": jitter should use the range";
  }
  EXPECT_EQ(ceiling(options, 1), 25ms);
  EXPECT_EQ(ceiling(options, 4), 200ms);
  EXPECT_EQ(ceiling(options, 5), 250ms);
}

TEST(RetryBackoff, RetryNumberZeroIsTreatedAsTheFirst) {
  auto options = all_enabled();
  balancing::Rng rng(5);
  for (int i = 0; i < 1000; ++i)
    EXPECT_LE(retry_backoff(options, 0, rng), 25ms);
}

TEST(RetryBackoff, ZeroBaseMeansNoWait) {
  auto options = all_enabled();
  options.backoff_base = Duration::zero();
  options.backoff_max = Duration::zero();
  balancing::Rng rng(5);
  EXPECT_EQ(retry_backoff(options, 3, rng), Duration::zero());
}

TEST(RetryBackoff, LargeRetryNumbersAndLongBasesStayUnderTheMax) {
  auto options = all_enabled();
  options.backoff_base = Duration(std::int64_t{1} << 44);  // about 4.9 hours; * 2^20 overflows
  options.backoff_max = std::chrono::hours(10);
  balancing::Rng rng(11);
  Duration highest = Duration::zero();
  for (int i = 0; i < 200; ++i) {
    Duration d = retry_backoff(options, 40, rng);
    ASSERT_GE(d, Duration::zero());
    ASSERT_LE(d, options.backoff_max);
    highest = std::max(highest, d);
  }
  EXPECT_GT(highest, std::chrono::hours(9));
}

}  // namespace
}  // namespace pier::proxy
