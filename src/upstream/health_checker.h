// Active health checks: an HTTP GET of a path on every backend at an interval. `rise` passes in a
// row make a backend healthy, `fall` failures in a row unhealthy; each change is logged once.
// Runs on one worker's io_context; results reach the others through Backend's atomics.
#pragma once

#include <asio/io_context.hpp>
#include <memory>
#include <vector>

#include "upstream/cluster.h"

namespace pier::upstream {

// The pure part: counts consecutive results and says when the state flips.
class HealthCounter {
 public:
  HealthCounter(std::uint32_t rise, std::uint32_t fall) : rise_(rise), fall_(fall) {}
  // Returns true when this result changes the state.
  bool record(bool passed);
  bool healthy() const { return healthy_; }

 private:
  std::uint32_t rise_;
  std::uint32_t fall_;
  std::uint32_t streak_ = 0;  // consecutive results contrary to the current state
  bool healthy_ = true;
};

// Starts one checking coroutine per backend of every cluster that has a `health` block.
void start_health_checks(asio::io_context& io, std::vector<Cluster*> clusters);

}  // namespace pier::upstream
