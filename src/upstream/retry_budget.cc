#include "upstream/retry_budget.h"

#include <chrono>

namespace pier::upstream {

RetryBudget::Bucket& RetryBudget::bucket(TimePoint now) {
  std::int64_t second =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  Bucket& b = buckets_[static_cast<std::size_t>(second % kWindowSeconds)];
  if (b.second != second) b = Bucket{second, 0, 0};  // a bucket from an older window: reuse it
  return b;
}

bool RetryBudget::try_spend(TimePoint now) {
  Bucket& current = bucket(now);
  std::int64_t oldest = current.second - kWindowSeconds + 1;
  std::uint64_t requests = 0;
  std::uint64_t retries = 0;
  for (const Bucket& b : buckets_) {
    if (b.second < oldest) continue;
    requests += b.requests;
    retries += b.retries;
  }
  double allowed = ratio_ * static_cast<double>(requests) +
                   static_cast<double>(min_per_second_) * kWindowSeconds;
  if (static_cast<double>(retries) + 1 > allowed) return false;
  current.retries++;
  return true;
}

}  // namespace pier::upstream
