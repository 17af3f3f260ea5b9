#include "upstream/backend.h"

#include <spdlog/spdlog.h>

#include "upstream/cluster.h"

namespace pier::upstream {

bool Backend::ejected(TimePoint now) const {
  std::int64_t until = ejected_until_.load(std::memory_order_relaxed);
  return until != 0 && now.time_since_epoch().count() < until;
}

bool Backend::usable(TimePoint now) {
  if (!healthy()) return false;
  std::int64_t until = ejected_until_.load(std::memory_order_relaxed);
  if (until == 0) return true;
  if (now.time_since_epoch().count() < until) return false;
  // The ejection is over: the first worker to notice announces it, once.
  if (ejected_until_.compare_exchange_strong(until, 0, std::memory_order_relaxed)) {
    ejection_logged_.store(false, std::memory_order_relaxed);
    spdlog::info("upstream {}: backend {} returns from ejection", cluster_->name(), name());
  }
  return true;
}

bool Backend::try_reserve_connection(std::size_t max_connections) {
  if (max_connections == 0) {
    open_connections_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  std::uint32_t open = open_connections_.load(std::memory_order_relaxed);
  while (open < max_connections) {
    if (open_connections_.compare_exchange_weak(open, open + 1, std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

void Backend::record_success() {
  // Read before writing: in steady state this is a load only, no shared cache-line write.
  if (consecutive_failures_.load(std::memory_order_relaxed) != 0) {
    consecutive_failures_.store(0, std::memory_order_relaxed);
  }
}

void Backend::record_failure(TimePoint now) {
  std::uint32_t threshold = cluster_->options().outlier.consecutive_failures;
  std::uint32_t failures = consecutive_failures_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (threshold != 0 && failures >= threshold) cluster_->maybe_eject(*this, now);
}

}  // namespace pier::upstream
