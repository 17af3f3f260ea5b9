// The in-memory store: an LRU bounded by bytes, sharded so that workers rarely meet on a lock.
// Each key holds up to kMaxVariants responses (one per Vary selection). Entries are immutable and
// shared: a reader keeps its entry alive while it is written to a client, even if it is evicted.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/strings.h"
#include "cache/entry.h"
#include "http/headers.h"

namespace pier::cache {

struct StoreStats {
  std::uint64_t entries = 0;
  std::uint64_t bytes = 0;
  std::uint64_t evictions = 0;
};

class MemoryStore {
 public:
  static constexpr std::size_t kMaxVariants = 8;

  MemoryStore(std::size_t max_bytes, std::size_t shards = 16);

  // The variant of `key` whose Vary selection matches `request`, or null. `any_variant` tells a
  // key with no matching variant (Cache-Status: fwd=vary-miss) from an unknown key.
  EntryPtr find(std::string_view key, const http::HeaderList& request, bool* any_variant = nullptr);
  // Stores `entry` under `key`, replacing the variant with the same Vary selection.
  void put(std::string_view key, EntryPtr entry);
  bool erase(std::string_view key);
  std::size_t erase_prefix(std::string_view prefix);
  StoreStats stats() const;
  std::size_t max_bytes() const { return max_bytes_; }

 private:
  struct Item {
    std::string key;
    std::vector<EntryPtr> variants;
    std::size_t bytes = 0;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::list<Item> lru;  // front = most recently used
    std::unordered_map<std::string, std::list<Item>::iterator, StringHash, std::equal_to<>> index;
    std::size_t bytes = 0;
    std::uint64_t evictions = 0;
  };

  Shard& shard_for(std::string_view key);
  void evict(Shard& shard);
  static void remove(Shard& shard, std::list<Item>::iterator it);

  std::size_t max_bytes_;
  std::size_t shard_budget_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace pier::cache
