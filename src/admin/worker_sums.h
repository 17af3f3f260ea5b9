// What the admin thread's pages share: sums over the workers' cells, and route labels.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/server.h"

namespace pier::admin {

inline constexpr std::array<std::string_view, 5> kClasses = {"1xx", "2xx", "3xx", "4xx", "5xx"};

// "index:host/prefix", or "none" for requests no route matched (i == routes.size()).
std::string route_label(const proxy::Runtime& rt, std::size_t i);

// f(worker context) summed over the workers.
template <class F>
std::uint64_t sum_workers(const proxy::Server& s, F&& f) {
  std::uint64_t n = 0;
  for (const auto& ctx : s.contexts())
    n += f(*ctx);
  return n;
}

// One rate limit's counter, summed over the workers.
inline std::uint64_t sum_rate_limit(const proxy::Server& server, std::size_t limit,
                                    const proxy::RateLimitFamily& family) {
  return sum_workers(server, [&](const proxy::WorkerContext& x) {
    return (x.rate_limits[limit].*family.cell).load(std::memory_order_relaxed);
  });
}

}  // namespace pier::admin
