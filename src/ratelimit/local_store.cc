#include "ratelimit/local_store.h"

#include <algorithm>

namespace pier::ratelimit {
namespace {

constexpr std::int64_t kSweepEveryUs = 100'000;  // a full sweep at most every 100 ms per shard

}  // namespace

LocalStore::LocalStore(std::size_t max_keys, std::size_t shards)
    : shard_capacity_(std::max<std::size_t>(1, max_keys / std::max<std::size_t>(1, shards))) {
  for (std::size_t i = 0; i < std::max<std::size_t>(1, shards); ++i)
    shards_.push_back(std::make_unique<Shard>());
}

Decision LocalStore::decide(std::string_view key, const Limit& limit, std::int64_t now_us) {
  Shard& shard = *shards_[StringHash{}(key) % shards_.size()];
  std::lock_guard lock(shard.mutex);
  auto found = shard.tats.find(key);
  if (found == shard.tats.end()) {
    Decision d = ratelimit::decide(limit, 0, now_us);  // an unknown key has a full bucket
    make_room(shard, now_us);
    shard.tats.emplace(std::string(key), d.tat_us);
    return d;
  }
  Decision d = ratelimit::decide(limit, found->second, now_us);
  found->second = d.tat_us;
  return d;
}

// Keys whose TAT has passed hold a full bucket: dropping them changes no decision. Only when
// every key is active (a flood of distinct keys) does an arbitrary one go.
void LocalStore::make_room(Shard& shard, std::int64_t now_us) {
  if (shard.tats.size() < shard_capacity_) return;
  if (now_us - shard.last_sweep_us >= kSweepEveryUs) {
    shard.last_sweep_us = now_us;
    std::erase_if(shard.tats, [now_us](const auto& kv) { return kv.second <= now_us; });
  }
  if (shard.tats.size() >= shard_capacity_) shard.tats.erase(shard.tats.begin());
}

std::size_t LocalStore::size() const {
  std::size_t n = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    n += shard->tats.size();
  }
  return n;
}

}  // namespace pier::ratelimit
