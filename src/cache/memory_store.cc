#include "cache/memory_store.h"

#include "cache/policy.h"

namespace pier::cache {
namespace {

bool same_selection(const Entry& a, const Entry& b) {
  if (a.vary.size() != b.vary.size()) return false;
  for (std::size_t i = 0; i < a.vary.size(); ++i) {
    if (a.vary[i].name != b.vary[i].name || a.vary[i].value != b.vary[i].value) return false;
  }
  return true;
}

}  // namespace

MemoryStore::MemoryStore(std::size_t max_bytes, std::size_t shards)
    : max_bytes_(max_bytes), shard_budget_(max_bytes / (shards == 0 ? 1 : shards)) {
  for (std::size_t i = 0; i < (shards == 0 ? 1 : shards); ++i)
    shards_.push_back(std::make_unique<Shard>());
}

MemoryStore::Shard& MemoryStore::shard_for(std::string_view key) {
  return *shards_[StringHash{}(key) % shards_.size()];
}

EntryPtr MemoryStore::find(std::string_view key, const http::HeaderList& request,
                           bool* any_variant) {
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  auto found = shard.index.find(key);
  if (any_variant) *any_variant = found != shard.index.end();
  if (found == shard.index.end()) return nullptr;
  shard.lru.splice(shard.lru.begin(), shard.lru, found->second);
  for (const EntryPtr& e : found->second->variants) {
    if (vary_matches(*e, request)) return e;
  }
  return nullptr;
}

void MemoryStore::put(std::string_view key, EntryPtr entry) {
  std::size_t size = entry->bytes() + key.size();
  if (size > shard_budget_) return;  // would evict a whole shard for one object
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  auto found = shard.index.find(key);
  if (found == shard.index.end()) {
    shard.lru.push_front(Item{std::string(key), {}, key.size()});
    found = shard.index.emplace(shard.lru.front().key, shard.lru.begin()).first;
    shard.bytes += key.size();
  } else {
    shard.lru.splice(shard.lru.begin(), shard.lru, found->second);
  }
  Item& item = *found->second;
  for (auto it = item.variants.begin(); it != item.variants.end(); ++it) {
    if (same_selection(**it, *entry)) {
      std::size_t old = (*it)->bytes();
      item.bytes -= old;
      shard.bytes -= old;
      item.variants.erase(it);
      break;
    }
  }
  if (item.variants.size() >= kMaxVariants) {
    std::size_t old = item.variants.front()->bytes();
    item.bytes -= old;
    shard.bytes -= old;
    item.variants.erase(item.variants.begin());
  }
  std::size_t added = entry->bytes();
  item.variants.push_back(std::move(entry));
  item.bytes += added;
  shard.bytes += added;
  evict(shard);
}

void MemoryStore::evict(Shard& shard) {
  while (shard.bytes > shard_budget_ && shard.lru.size() > 1) {
    remove(shard, std::prev(shard.lru.end()));
    ++shard.evictions;
  }
}

void MemoryStore::remove(Shard& shard, std::list<Item>::iterator it) {
  shard.bytes -= it->bytes;
  shard.index.erase(it->key);
  shard.lru.erase(it);
}

bool MemoryStore::erase(std::string_view key) {
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  auto found = shard.index.find(key);
  if (found == shard.index.end()) return false;
  remove(shard, found->second);
  return true;
}

std::size_t MemoryStore::erase_prefix(std::string_view prefix) {
  std::size_t erased = 0;
  for (auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    for (auto it = shard->lru.begin(); it != shard->lru.end();) {
      auto next = std::next(it);
      if (std::string_view(it->key).starts_with(prefix)) {
        remove(*shard, it);
        ++erased;
      }
      it = next;
    }
  }
  return erased;
}

StoreStats MemoryStore::stats() const {
  StoreStats s;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    s.entries += shard->lru.size();
    s.bytes += shard->bytes;
    s.evictions += shard->evictions;
  }
  return s;
}

}  // namespace pier::cache
