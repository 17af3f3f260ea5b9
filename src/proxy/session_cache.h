// The state one request carries through the cache phases (cache_lookup, and the storing of the
// response): see session_cache.cc.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "cache/cache_control.h"
#include "cache/entry.h"
#include "proxy/runtime.h"

namespace pier::proxy {

struct CacheFlow {
  // The strings live in the session's pooled scratch (proxy/session_scratch.h).
  explicit CacheFlow(SessionScratch::CacheText& text)
      : key(text.key),
        validators(text.validators),
        status(text.status),
        invalidate_key(text.invalidate_key),
        request_host(text.request_host) {}
  CacheFlow(const CacheFlow&) = delete;
  CacheFlow& operator=(const CacheFlow&) = delete;

  SharedCache* cache = nullptr;  // null: the route has no cache
  std::size_t index = 0;         // the cache's index (metrics)
  const cache::PolicyOptions* policy = nullptr;
  ClusterLocal* cluster = nullptr;  // the route's upstream, for background refreshes
  std::string& key;
  cache::CacheControl request_cc;
  bool request_no_cache = false;
  cache::EntryPtr stale;      // a stored entry that could not be served as it is
  bool revalidating = false;  // the upstream request carries stale's validators
  bool invalidate = false;    // an unsafe method: a success invalidates the stored URIs
  bool lead = false;          // this request leads the coalesced fetch of `key`
  bool may_store = false;     // a GET the cache looked up: its response may be stored
  bool stored = false;        // its response went into the cache (metrics)
  std::int64_t request_time = 0;
  std::string& validators;      // If-None-Match / If-Modified-Since lines for the upstream request
  std::string& status;          // our Cache-Status parameters, after the cache's name
  std::string& invalidate_key;  // an unsafe request's URL key (without configured fields)
  std::string& request_host;    // its host, for the same-origin test of Location
  std::unique_ptr<cache::Entry> capture;  // the response being stored while it is relayed
  std::uint64_t max_object = 0;

  bool active() const { return cache != nullptr; }
  // Releases the lead now (the waiters look again): once the response will not be stored.
  void release_lead() {
    if (!lead) return;
    lead = false;
    cache->coalescer.finish(key);
  }
  // Ends this request's part in the cache: a leader's waiters are woken (they look again).
  void end() {
    release_lead();
    cache = nullptr;
    stale.reset();
    capture.reset();
    revalidating = invalidate = may_store = stored = false;
  }
  ~CacheFlow() { release_lead(); }
};

// Wall-clock seconds for RFC 9111's arithmetic (coarse: no syscall, a second's precision).
std::int64_t wall_seconds();

}  // namespace pier::proxy
