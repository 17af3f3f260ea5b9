#include "upstream/retry_budget.h"

#include <gtest/gtest.h>

namespace pier::upstream {
namespace {

using namespace std::chrono_literals;

TEST(RetryBudget, FloorAllowsRetriesWithoutTraffic) {
  RetryBudget budget(0.2, 3);
  TimePoint t0{100s};
  int granted = 0;
  for (int i = 0; i < 100; ++i)
    granted += budget.try_spend(t0) ? 1 : 0;
  EXPECT_EQ(granted, 30);  // 3 per second over the 10 s window
}

TEST(RetryBudget, RatioOfRequestsOnTopOfTheFloor) {
  RetryBudget budget(0.2, 0);
  TimePoint t0{100s};
  for (int i = 0; i < 100; ++i)
    budget.record_request(t0);
  int granted = 0;
  for (int i = 0; i < 100; ++i)
    granted += budget.try_spend(t0) ? 1 : 0;
  EXPECT_EQ(granted, 20);
}

TEST(RetryBudget, OldSecondsLeaveTheWindow) {
  RetryBudget budget(0.0, 1);
  TimePoint t0{100s};
  int granted = 0;
  for (int i = 0; i < 20; ++i)
    granted += budget.try_spend(t0) ? 1 : 0;
  EXPECT_EQ(granted, 10);
  EXPECT_FALSE(budget.try_spend(t0 + 9s));
  EXPECT_TRUE(budget.try_spend(t0 + 10s));  // second 100 slid out of the window
}

}  // namespace
}  // namespace pier::upstream
