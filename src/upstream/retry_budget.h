// Retry budget: retries may be at most `ratio` of the requests seen over a sliding 10 s window,
// plus a floor of min_per_second * 10, so a failing backend cannot multiply the load on the
// cluster. One instance per worker per cluster: counting writes nothing shared.
#pragma once

#include <array>
#include <cstdint>

#include "net/clock.h"

namespace pier::upstream {

class RetryBudget {
 public:
  static constexpr int kWindowSeconds = 10;

  RetryBudget(double ratio, std::uint32_t min_per_second)
      : ratio_(ratio), min_per_second_(min_per_second) {}

  void record_request(TimePoint now) { bucket(now).requests++; }
  // Takes one retry from the budget if there is one left.
  bool try_spend(TimePoint now);

 private:
  struct Bucket {
    std::int64_t second = -1;
    std::uint32_t requests = 0;
    std::uint32_t retries = 0;
  };
  Bucket& bucket(TimePoint now);

  double ratio_;
  std::uint32_t min_per_second_;
  std::array<Bucket, kWindowSeconds> buckets_{};
};

}  // namespace pier::upstream
