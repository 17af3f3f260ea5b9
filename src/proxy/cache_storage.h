// Where a cache's entries live (CacheOptions::store), behind one interface for the session:
// memory (this process), redis (shared by the fleet), or tiered (memory in front of Redis).
//
// Redis is never in the way: when it is down, slow (past redis.timeout) or returns a malformed
// entry, a lookup is a miss (a malformed entry is also deleted) and a store is skipped; the
// request goes on to the backend and the client notices nothing.
#pragma once

#include <asio/awaitable.hpp>
#include <string_view>

#include "cache/entry.h"
#include "cache/policy.h"
#include "http/headers.h"
#include "proxy/runtime.h"

namespace pier::proxy {

// Purges published for memory tiers of the whole fleet: the payload is a Redis key (the cache's
// prefix and the URL key), or a key prefix ending in '*'.
inline constexpr std::string_view kPurgeChannel = "pier:purge";

// The stored variant of `key` that matches the request, or null. `any_variant` is set when the
// URL is stored but not for this request's Vary selection.
asio::awaitable<cache::EntryPtr> cache_find(SharedCache& cache, redis::Client* redis,
                                            std::string_view key, const http::HeaderList& request,
                                            const cache::PolicyOptions& policy, bool* any_variant);

// Stores the entry in every tier; returns once Redis has it (or failed), so that a request that
// waited for this one finds it there.
asio::awaitable<void> cache_put(SharedCache& cache, redis::Client* redis, std::string_view key,
                                cache::EntryPtr entry);

// Removes a URL (all its variants), or with `prefix` every URL starting with `key`, from every
// tier, and tells the fleet's memory tiers. Returns how many were removed here and in Redis.
asio::awaitable<std::size_t> cache_erase(SharedCache& cache, redis::Client* redis,
                                         std::string_view key, bool prefix);

// A purge published by any Pier of the fleet (kPurgeChannel), applied to this process's tiers.
void apply_fleet_purge(const Runtime& runtime, std::string_view redis_key);

// How long Redis keeps an entry: its remaining freshness, its stale windows, and time to
// revalidate it when it has a validator. 0: not worth storing.
std::int64_t redis_ttl_seconds(const cache::Entry& entry, std::int64_t now);

}  // namespace pier::proxy
