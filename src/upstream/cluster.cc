#include "upstream/cluster.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

namespace pier::upstream {

Cluster::Cluster(ClusterOptions options) : options_(std::move(options)) {
  backends_.reserve(options_.backends.size());
  for (std::size_t i = 0; i < options_.backends.size(); ++i) {
    backends_.push_back(std::make_unique<Backend>(options_.backends[i], *this, i));
  }
}

void Cluster::maybe_eject(Backend& b, TimePoint now) {
  if (b.ejected(now)) return;
  std::size_t ejected = 0;
  for (const auto& other : backends_)
    ejected += other->ejected(now) ? 1 : 0;
  double limit = options_.outlier.max_ejection_percent * static_cast<double>(backends_.size());
  if (static_cast<double>(ejected + 1) > std::floor(limit + 1e-9)) return;
  if (b.ejection_logged_.exchange(true, std::memory_order_relaxed)) return;  // another worker won

  // base * 2^k, capped: a backend that keeps failing stays out longer each time.
  std::uint32_t k = std::min<std::uint32_t>(b.times_ejected_.fetch_add(1), 20);
  auto duration = std::min<Duration>(options_.outlier.base_ejection * (1ll << k),
                                     options_.outlier.max_ejection);
  auto until = now + duration;
  b.ejected_until_.store(until.time_since_epoch().count(), std::memory_order_relaxed);
  b.consecutive_failures_.store(0, std::memory_order_relaxed);
  spdlog::warn("upstream {}: backend {} ejected for {} ms after {} consecutive failures", name(),
               b.name(), std::chrono::duration_cast<std::chrono::milliseconds>(duration).count(),
               options_.outlier.consecutive_failures);
}

}  // namespace pier::upstream
