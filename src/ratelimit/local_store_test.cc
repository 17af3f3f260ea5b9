#include "ratelimit/local_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace pier::ratelimit {
namespace {

constexpr std::int64_t kSecond = 1'000'000;

TEST(LocalStore, KeysAreIndependent) {
  LocalStore store(1000, 4);
  Limit limit = make_limit(1, kSecond, 2);
  EXPECT_TRUE(store.decide("a", limit, kSecond).allowed);
  EXPECT_TRUE(store.decide("a", limit, kSecond).allowed);
  EXPECT_FALSE(store.decide("a", limit, kSecond).allowed);
  EXPECT_TRUE(store.decide("b", limit, kSecond).allowed);
  EXPECT_TRUE(store.decide("a", limit, 2 * kSecond).allowed);
}

TEST(LocalStore, ExactUnderConcurrency) {
  LocalStore store(1000, 8);
  Limit limit = make_limit(1, 3600 * kSecond, 100);  // no refill during the test
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        if (store.decide("k", limit, kSecond).allowed) ++allowed;
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(allowed.load(), 100);
}

TEST(LocalStore, MemoryStaysWithinMaxKeys) {
  LocalStore store(1024, 16);
  Limit limit = make_limit(10, kSecond, 5);
  for (int i = 0; i < 100000; ++i) {
    std::string key = std::to_string(i);
    store.decide(key, limit, kSecond + i);  // all active: none has refilled
  }
  EXPECT_LE(store.size(), 1024u);
  EXPECT_GT(store.size(), 512u);
}

TEST(LocalStore, FullBucketsAreDroppedFirst) {
  LocalStore store(16, 1);
  Limit limit = make_limit(1000, kSecond, 1);  // T = 1 ms
  store.decide("busy", limit, 0);
  for (int i = 0; i < 15; ++i)
    store.decide(std::to_string(i) + "-idle", limit, 0);
  // 1 s later every bucket is full again; a new key sweeps them away rather than evict at random.
  store.decide("busy", limit, kSecond);
  store.decide("new", limit, kSecond);
  EXPECT_LE(store.size(), 3u);
}

}  // namespace
}  // namespace pier::ratelimit
