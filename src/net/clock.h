#pragma once

#include <chrono>

namespace pier {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

}  // namespace pier
