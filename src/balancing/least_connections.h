// Weighted least connections: the fewest in-flight requests per unit of weight wins; ties are
// broken at random so that workers seeing the same counts do not all pile onto the first backend.
#pragma once

#include "balancing/balancer.h"

namespace pier::balancing {

class LeastConnections final : public Balancer {
 public:
  explicit LeastConnections(std::uint64_t seed) : rng_(seed) {}
  std::optional<std::size_t> pick(std::span<const Target> targets, std::uint64_t key,
                                  const TriedSet& tried) override;

 private:
  Rng rng_;
};

}  // namespace pier::balancing
