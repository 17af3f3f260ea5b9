// Request coalescing: of concurrent misses for one key, the first leads the fetch and the others
// wait for it (RFC 9111 §4 lets a cache do this; Varnish and nginx's proxy_cache_lock do).
// No I/O: a waiter registers a wake-up callback, which the leader's finish() calls from the
// leader's thread; the waiter's callback posts itself back to its own worker.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/strings.h"

namespace pier::cache {

class Coalescer {
 public:
  using Wake = std::function<void()>;

  explicit Coalescer(std::size_t shards = 16);

  // True: the caller leads the fetch for `key` and must call finish(key) whatever happens.
  // False: a fetch is under way; `wake` will be called once, when it finishes.
  bool join(std::string_view key, Wake wake);

  // True when the caller now leads `key`; never waits (a background refresh uses it: when a
  // fetch of the key is under way, there is nothing to refresh).
  bool try_lead(std::string_view key);

  // Ends the lead on `key` and wakes every waiter.
  void finish(std::string_view key);

  std::size_t in_flight() const;

 private:
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, std::vector<Wake>, StringHash, std::equal_to<>> waiting;
  };
  Shard& shard_for(std::string_view key);

  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace pier::cache
