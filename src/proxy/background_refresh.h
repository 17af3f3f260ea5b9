// stale-while-revalidate (RFC 5861 §3): after a stale entry was served, one request without a
// client refreshes it. It leads the key's coalescing, so concurrent stale hits start one refresh.
#pragma once

#include <string>

#include "cache/entry.h"
#include "proxy/runtime.h"

namespace pier::proxy {

struct RefreshJob {
  SharedCache* cache = nullptr;
  cache::PolicyOptions policy;
  ClusterLocal* cluster = nullptr;
  redis::Client* redis = nullptr;  // the worker's, for redis and tiered caches
  std::string key;
  cache::EntryPtr stale;
  std::string client_head;    // a copy of the client's request head: Vary and may_store read it
  std::string upstream_head;  // the request as sent upstream, with the entry's validators
  std::size_t max_headers = 100;
};

// Starts the refresh on this worker unless one is already under way for the key.
void start_refresh(WorkerContext& ctx, RefreshJob job);

}  // namespace pier::proxy
