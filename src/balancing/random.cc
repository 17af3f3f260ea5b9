#include "balancing/random.h"

namespace pier::balancing {

std::optional<std::size_t> RandomChoice::pick(std::span<const Target> targets, std::uint64_t,
                                              const TriedSet& tried) {
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (eligible(targets[i], i, tried)) total += targets[i].weight;
  }
  if (total == 0) return std::nullopt;
  std::uint64_t point = rng_.below(total);
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (!eligible(targets[i], i, tried)) continue;
    if (point < targets[i].weight) return i;
    point -= targets[i].weight;
  }
  return std::nullopt;  // unreachable: point < total
}

}  // namespace pier::balancing
