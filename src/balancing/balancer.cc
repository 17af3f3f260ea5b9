#include "balancing/balancer.h"

#include "balancing/least_connections.h"
#include "balancing/random.h"
#include "balancing/round_robin.h"

namespace pier::balancing {

std::optional<Algorithm> algorithm_from_name(std::string_view name) {
  if (name == "round_robin") return Algorithm::RoundRobin;
  if (name == "least_connections") return Algorithm::LeastConnections;
  if (name == "random") return Algorithm::Random;
  return std::nullopt;
}

std::uint64_t Rng::next() {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::unique_ptr<Balancer> make_balancer(Algorithm algorithm, std::size_t target_count,
                                        std::uint64_t seed) {
  switch (algorithm) {
    case Algorithm::RoundRobin:
      return std::make_unique<RoundRobin>(target_count);
    case Algorithm::LeastConnections:
      return std::make_unique<LeastConnections>(seed);
    case Algorithm::Random:
      return std::make_unique<RandomChoice>(seed);
  }
  return nullptr;
}

}  // namespace pier::balancing
