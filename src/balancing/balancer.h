// Load-balancing algorithms: pure, one small file each, behind one tiny interface (after h2o's
// selector): pick(targets, key, tried) -> index. `tried` makes a retry go to another backend.
//
// A Balancer instance belongs to one worker thread: its state (round-robin weights, random
// generator) is never shared, so picking writes nothing that another core reads.
#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

namespace pier::balancing {

inline constexpr std::size_t kMaxBackends = 256;
using TriedSet = std::bitset<kMaxBackends>;

// What an algorithm may know of a backend at the moment of picking.
struct Target {
  std::uint32_t weight = 1;
  std::uint32_t load = 0;  // requests in flight on this backend, all workers together
  bool usable = true;      // healthy and not ejected
};

enum class Algorithm { RoundRobin, LeastConnections, Random };

std::optional<Algorithm> algorithm_from_name(std::string_view name);

// A small, fast generator for tie-breaks and random picks (splitmix64); per worker.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  std::uint64_t below(std::uint64_t bound) { return next() % bound; }  // bias is negligible here

 private:
  std::uint64_t state_;
};

class Balancer {
 public:
  virtual ~Balancer() = default;
  // Returns the index of a usable target not in `tried`, or nullopt when there is none.
  // `key` is a per-request hash for algorithms that want one (unused by the current three).
  virtual std::optional<std::size_t> pick(std::span<const Target> targets, std::uint64_t key,
                                          const TriedSet& tried) = 0;
};

std::unique_ptr<Balancer> make_balancer(Algorithm algorithm, std::size_t target_count,
                                        std::uint64_t seed);

inline bool eligible(const Target& t, std::size_t i, const TriedSet& tried) {
  return t.usable && t.weight > 0 && !tried.test(i);
}

}  // namespace pier::balancing
