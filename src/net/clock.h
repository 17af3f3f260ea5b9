// The clock of deadlines, backoffs, budgets and ejections: CLOCK_MONOTONIC_COARSE, a vDSO read of
// the kernel's last tick (a few ms of resolution) without the TSC read that steady_clock costs.
// Profiles put clock reads at ~3.5% of the proxy's CPU with steady_clock; every use here is
// coarser than 4 ms anyway (deadlines are swept every 50 ms).
#pragma once

#include <time.h>

#include <chrono>

namespace pier {

struct Clock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<Clock, duration>;
  static constexpr bool is_steady = true;

  static time_point now() noexcept {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return time_point(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
  }
};

using TimePoint = Clock::time_point;

}  // namespace pier
