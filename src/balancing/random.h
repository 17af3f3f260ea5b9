// Weighted random choice among the usable targets.
#pragma once

#include "balancing/balancer.h"

namespace pier::balancing {

class RandomChoice final : public Balancer {
 public:
  explicit RandomChoice(std::uint64_t seed) : rng_(seed) {}
  std::optional<std::size_t> pick(std::span<const Target> targets, std::uint64_t key,
                                  const TriedSet& tried) override;

 private:
  Rng rng_;
};

}  // namespace pier::balancing
