#include "cache/coalescer.h"

namespace pier::cache {

Coalescer::Coalescer(std::size_t shards) {
  for (std::size_t i = 0; i < (shards == 0 ? 1 : shards); ++i)
    shards_.push_back(std::make_unique<Shard>());
}

Coalescer::Shard& Coalescer::shard_for(std::string_view key) {
  return *shards_[StringHash{}(key) % shards_.size()];
}

bool Coalescer::join(std::string_view key, Wake wake) {
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  auto found = shard.waiting.find(key);
  if (found == shard.waiting.end()) {
    shard.waiting.emplace(std::string(key), std::vector<Wake>());
    return true;
  }
  found->second.push_back(std::move(wake));
  return false;
}

bool Coalescer::try_lead(std::string_view key) {
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  return shard.waiting.emplace(std::string(key), std::vector<Wake>()).second;
}

void Coalescer::finish(std::string_view key) {
  std::vector<Wake> woken;
  {
    Shard& shard = shard_for(key);
    std::lock_guard lock(shard.mutex);
    auto found = shard.waiting.find(key);
    if (found == shard.waiting.end()) return;
    woken = std::move(found->second);
    shard.waiting.erase(found);
  }
  for (Wake& wake : woken) {  // outside the lock: a callback may post, or even join again
    if (wake) wake();
  }
}

std::size_t Coalescer::in_flight() const {
  std::size_t n = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    n += shard->waiting.size();
  }
  return n;
}

}  // namespace pier::cache
