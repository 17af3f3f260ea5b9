// The local rate-limit store: each key's TAT (ratelimit/gcra.h) in a sharded hash map, a mutex
// per shard, so workers meet on a lock only when their keys hash to the same shard. Memory is
// bounded by max_keys: a flood of distinct keys (client addresses) evicts keys whose bucket is
// full again (they lose nothing), then arbitrary ones, never growing past the bound.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/strings.h"
#include "ratelimit/gcra.h"

namespace pier::ratelimit {

class LocalStore {
 public:
  explicit LocalStore(std::size_t max_keys, std::size_t shards = 64);

  Decision decide(std::string_view key, const Limit& limit, std::int64_t now_us);
  std::size_t size() const;
  std::size_t max_keys() const { return shard_capacity_ * shards_.size(); }

 private:
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, std::int64_t, StringHash, std::equal_to<>> tats;
    std::int64_t last_sweep_us = 0;
  };
  void make_room(Shard& shard, std::int64_t now_us);

  std::size_t shard_capacity_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace pier::ratelimit
