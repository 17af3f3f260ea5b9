#include "balancing/round_robin.h"

namespace pier::balancing {

std::optional<std::size_t> RoundRobin::pick(std::span<const Target> targets, std::uint64_t,
                                            const TriedSet& tried) {
  if (current_.size() < targets.size()) current_.resize(targets.size(), 0);
  std::int64_t total = 0;
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (!eligible(targets[i], i, tried)) continue;
    current_[i] += targets[i].weight;
    total += targets[i].weight;
    if (!best || current_[i] > current_[*best]) best = i;
  }
  if (best) current_[*best] -= total;
  return best;
}

}  // namespace pier::balancing
