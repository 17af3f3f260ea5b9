// Smooth weighted round robin, as nginx does it: weights 5,1,1 give a a b a c a a, spreading the
// heavy backend's turns instead of sending it five in a row.
#pragma once

#include <vector>

#include "balancing/balancer.h"

namespace pier::balancing {

class RoundRobin final : public Balancer {
 public:
  explicit RoundRobin(std::size_t target_count) : current_(target_count, 0) {}
  std::optional<std::size_t> pick(std::span<const Target> targets, std::uint64_t key,
                                  const TriedSet& tried) override;

 private:
  std::vector<std::int64_t> current_;  // nginx's current_weight per target
};

}  // namespace pier::balancing
