#include "balancing/balancer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "balancing/least_connections.h"
#include "balancing/random.h"
#include "balancing/round_robin.h"

namespace pier::balancing {
namespace {

Target target(std::uint32_t weight, std::uint32_t load = 0, bool usable = true) {
  return Target{weight, load, usable};
}

// Picks `n` times and writes each pick as a letter: 0 -> 'a', 1 -> 'b', nullopt -> '-'.
std::string picks(Balancer& balancer, const std::vector<Target>& targets, int n,
                  const TriedSet& tried = {}) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    auto index = balancer.pick(targets, 0, tried);
    out += index ? static_cast<char>('a' + *index) : '-';
  }
  return out;
}

std::vector<int> counts(Balancer& balancer, const std::vector<Target>& targets, int n,
                        const TriedSet& tried = {}) {
  std::vector<int> out(targets.size() + 1, 0);  // the last slot counts nullopt
  for (int i = 0; i < n; ++i) {
    auto index = balancer.pick(targets, 0, tried);
    ++out[index ? *index : targets.size()];
  }
  return out;
}

TEST(AlgorithmFromName, KnowsTheThreeAlgorithms) {
  EXPECT_EQ(algorithm_from_name("round_robin"), Algorithm::RoundRobin);
  EXPECT_EQ(algorithm_from_name("least_connections"), Algorithm::LeastConnections);
  EXPECT_EQ(algorithm_from_name("random"), Algorithm::Random);
  EXPECT_EQ(algorithm_from_name("Random"), std::nullopt);
  EXPECT_EQ(algorithm_from_name(""), std::nullopt);
}

TEST(MakeBalancer, BuildsTheNamedAlgorithm) {
  EXPECT_NE(dynamic_cast<RoundRobin*>(make_balancer(Algorithm::RoundRobin, 3, 1).get()), nullptr);
  EXPECT_NE(dynamic_cast<LeastConnections*>(make_balancer(Algorithm::LeastConnections, 3, 1).get()),
            nullptr);
  EXPECT_NE(dynamic_cast<RandomChoice*>(make_balancer(Algorithm::Random, 3, 1).get()), nullptr);
}

TEST(Rng, SameSeedSameSequenceAndBelowStaysBelow) {
  Rng a(7);
  Rng b(7);
  Rng c(8);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    std::uint64_t x = a.next();
    EXPECT_EQ(x, b.next());
    differs = differs || x != c.next();
    EXPECT_LT(c.below(3), 3u);
  }
  EXPECT_TRUE(differs);
}

// ---- round robin ----

TEST(RoundRobin, SmoothWeightsFiveOneOneGiveAABACAA) {
  RoundRobin rr(3);
  std::vector<Target> targets = {target(5), target(1), target(1)};
  EXPECT_EQ(picks(rr, targets, 14), "aabacaaaabacaa");
}

TEST(RoundRobin, EqualWeightsTakeTurns) {
  RoundRobin rr(3);
  EXPECT_EQ(picks(rr, {target(1), target(1), target(1)}, 7), "abcabca");
}

TEST(RoundRobin, ShareOfEachTargetFollowsItsWeight) {
  RoundRobin rr(3);
  EXPECT_EQ(counts(rr, {target(3), target(2), target(1)}, 600),
            (std::vector<int>{300, 200, 100, 0}));
}

TEST(RoundRobin, UnusableTargetsAreSkipped) {
  RoundRobin rr(3);
  EXPECT_EQ(picks(rr, {target(1), target(1, 0, false), target(1)}, 6), "acacac");
}

TEST(RoundRobin, ZeroWeightTargetsAreSkipped) {
  RoundRobin rr(2);
  EXPECT_EQ(picks(rr, {target(0), target(1)}, 3), "bbb");
}

TEST(RoundRobin, TriedTargetsAreSkipped) {
  RoundRobin rr(3);
  TriedSet tried;
  tried.set(0);
  tried.set(2);
  EXPECT_EQ(picks(rr, {target(5), target(1), target(1)}, 3, tried), "bbb");
}

TEST(RoundRobin, NoEligibleTargetIsNullopt) {
  RoundRobin rr(2);
  TriedSet tried;
  tried.set(1);
  EXPECT_EQ(picks(rr, {target(1, 0, false), target(1)}, 2, tried), "--");
  EXPECT_EQ(picks(rr, {}, 1), "-");
}

TEST(RoundRobin, MoreTargetsThanAtConstructionAreHandled) {
  RoundRobin rr(1);
  EXPECT_EQ(picks(rr, {target(1), target(1)}, 4), "abab");
}

// ---- least connections ----

TEST(LeastConnections, PrefersTheLowestLoadPerWeight) {
  LeastConnections lc(1);
  // 4/1, 3/1, 5/2 = 2.5: the heavier target wins though its raw load is highest.
  EXPECT_EQ(picks(lc, {target(1, 4), target(1, 3), target(2, 5)}, 5), "ccccc");
  EXPECT_EQ(picks(lc, {target(1, 4), target(1, 2), target(2, 5)}, 5), "bbbbb");
}

TEST(LeastConnections, TiesAreSpreadOverAllTiedTargets) {
  LeastConnections lc(12345);
  // a, c and d are tied at load 1 per weight; b has more, e is idle but unusable.
  std::vector<Target> targets = {target(1, 1), target(1, 2), target(2, 2), target(3, 3),
                                 target(1, 0, false)};
  std::vector<int> c = counts(lc, targets, 30000);
  EXPECT_EQ(c[1], 0);
  EXPECT_EQ(c[4], 0);
  EXPECT_EQ(c[5], 0);
  for (int i : {0, 2, 3}) {
    EXPECT_GT(c[i], 9000) << "target " << i;
    EXPECT_LT(c[i], 11000) << "target " << i;
  }
}

TEST(LeastConnections, TiedFirstTargetIsNotFavoured) {
  LeastConnections lc(99);
  std::vector<int> c = counts(lc, {target(1), target(1)}, 10000);
  EXPECT_GT(c[0], 4500);
  EXPECT_GT(c[1], 4500);
}

TEST(LeastConnections, UnusableAndTriedTargetsAreSkipped) {
  LeastConnections lc(1);
  TriedSet tried;
  tried.set(1);
  EXPECT_EQ(picks(lc, {target(1, 0, false), target(1, 0), target(1, 9)}, 4, tried), "cccc");
  tried.set(2);
  EXPECT_EQ(picks(lc, {target(1, 0, false), target(1, 0), target(1, 9)}, 1, tried), "-");
}

// ---- random ----

TEST(RandomChoice, FollowsTheWeightsRoughly) {
  RandomChoice random(2024);
  std::vector<int> c = counts(random, {target(1), target(3), target(6)}, 100000);
  // Expected 10%, 30%, 60%; a fixed seed keeps this deterministic, the margin keeps it honest.
  EXPECT_NEAR(c[0], 10000, 1000);
  EXPECT_NEAR(c[1], 30000, 1500);
  EXPECT_NEAR(c[2], 60000, 1500);
  EXPECT_EQ(c[3], 0);
}

TEST(RandomChoice, NeverPicksUnusableOrTriedTargets) {
  RandomChoice random(7);
  TriedSet tried;
  tried.set(3);
  std::vector<int> c = counts(
      random, {target(5, 0, false), target(1), target(0), target(9), target(2)}, 30000, tried);
  EXPECT_EQ(c[0], 0);
  EXPECT_EQ(c[2], 0);
  EXPECT_EQ(c[3], 0);
  EXPECT_EQ(c[5], 0);
  EXPECT_NEAR(c[1], 10000, 1000);
  EXPECT_NEAR(c[4], 20000, 1000);
}

TEST(RandomChoice, NoEligibleTargetIsNullopt) {
  RandomChoice random(7);
  EXPECT_EQ(picks(random, {target(1, 0, false), target(0)}, 3), "---");
  EXPECT_EQ(picks(random, {}, 1), "-");
}

}  // namespace
}  // namespace pier::balancing
