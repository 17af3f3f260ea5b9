#include "balancing/least_connections.h"

namespace pier::balancing {

std::optional<std::size_t> LeastConnections::pick(std::span<const Target> targets, std::uint64_t,
                                                  const TriedSet& tried) {
  std::optional<std::size_t> best;
  std::uint64_t ties = 0;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const Target& t = targets[i];
    if (!eligible(t, i, tried)) continue;
    if (!best) {
      best = i;
      ties = 1;
      continue;
    }
    const Target& b = targets[*best];
    // load/weight < best.load/best.weight, compared without division.
    std::uint64_t lhs = std::uint64_t{t.load} * b.weight;
    std::uint64_t rhs = std::uint64_t{b.load} * t.weight;
    if (lhs < rhs) {
      best = i;
      ties = 1;
    } else if (lhs == rhs && rng_.below(++ties) == 0) {
      best = i;  // reservoir sampling: each tied target equally likely
    }
  }
  return best;
}

}  // namespace pier::balancing
