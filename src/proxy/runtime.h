// The immutable config snapshot shared by all workers, and each worker's own state built from it.
#pragma once

#include <atomic>
#include <memory>
#include <string_view>
#include <vector>

#include "balancing/balancer.h"
#include "cache/coalescer.h"
#include "cache/memory_store.h"
#include "net/worker.h"
#include "proxy/options.h"
#include "proxy/router.h"
#include "proxy/session_scratch.h"
#include "ratelimit/local_store.h"
#include "redis/client.h"
#include "telemetry/access_log.h"
#include "telemetry/worker_metrics.h"
#include "upstream/cluster.h"
#include "upstream/connection_pool.h"
#include "upstream/retry_budget.h"

namespace pier::proxy {

// A cache shared by all workers: its memory tier (none for store: redis) and its coalesced
// fetches. Its Redis side goes through each worker's own client (proxy/cache_storage.h).
struct SharedCache {
  explicit SharedCache(const CacheOptions& o)
      : options(o),
        memory(o.uses_memory() ? std::make_unique<cache::MemoryStore>(o.max_bytes) : nullptr) {}
  const CacheOptions& options;
  std::unique_ptr<cache::MemoryStore> memory;
  cache::Coalescer coalescer;
};

// Per worker, per rate limit: written by that worker only (relaxed), summed when scraped.
struct RateLimitCounters {
  std::atomic<std::uint64_t> allowed{0};
  std::atomic<std::uint64_t> limited{0};
  std::atomic<std::uint64_t> redis_errors{0};  // decisions Redis could not make
};

// Those counters as Prometheus families (labelled by limit) and /api/ratelimits fields.
struct RateLimitFamily {
  std::string_view name;
  std::string_view help;
  std::string_view json_field;
  std::atomic<std::uint64_t> RateLimitCounters::*cell;
};
inline constexpr RateLimitFamily kRateLimitFamilies[] = {
    {"pier_ratelimit_allowed_total", "Requests a rate limit let through.", "allowed",
     &RateLimitCounters::allowed},
    {"pier_ratelimit_limited_total", "Requests a rate limit refused (429).", "limited",
     &RateLimitCounters::limited},
    {"pier_ratelimit_redis_errors_total",
     "Decisions Redis could not make (on_redis_error applied).", "redis_errors",
     &RateLimitCounters::redis_errors},
};

struct Runtime {
  explicit Runtime(ProxyOptions opts);

  ProxyOptions options;
  std::vector<std::unique_ptr<upstream::Cluster>> clusters;  // index = RouteOptions::cluster_index
  std::vector<std::unique_ptr<SharedCache>> caches;          // index = RouteOptions::cache_index
  // Local buckets of each rate limit (also the fallback of Redis-backed ones), shared by workers.
  std::vector<std::unique_ptr<ratelimit::LocalStore>> limiters;
  Router router;
};

// A cluster as one worker sees it: its balancer state, connection pools and retry budget.
struct ClusterLocal {
  ClusterLocal(net::Worker& worker, upstream::Cluster& cluster, std::uint64_t seed);

  // Phase select_upstream: the balancer's choice among the usable backends not yet tried.
  upstream::Backend* pick(const balancing::TriedSet& tried);

  upstream::Cluster* cluster;
  std::unique_ptr<balancing::Balancer> balancer;
  std::vector<balancing::Target> targets;  // scratch for pick(), refreshed per request
  std::vector<std::unique_ptr<upstream::ConnectionPool>> pools;  // index = backend index
  upstream::RetryBudget budget;
};

struct WorkerContext {
  WorkerContext(net::Worker& worker, std::shared_ptr<const Runtime> runtime);

  net::Worker& worker;
  std::shared_ptr<const Runtime> runtime;
  std::vector<std::unique_ptr<ClusterLocal>> clusters;
  balancing::Rng rng;
  ScratchPool scratch;
  TimePoint last_trim{};
  // Cached blocks kept however quiet it gets: a steady load keeps its working set anyway (trim()
  // unmaps only blocks unused for a whole period); spares beyond these only pin pages while
  // thousands of connections sit idle.
  static constexpr std::size_t kBuffersKept = 8;
  static constexpr std::size_t kPipesKept = 2;  // empty pipes hold no memory, only descriptors
  // Blocks unused for a whole period are unmapped: short enough that a burst's buffers are gone
  // within half a second, long enough that a steady load keeps its working set mapped.
  static constexpr std::chrono::milliseconds kTrimPeriod{250};
  std::atomic<std::size_t> open_sessions{0};  // written by this worker only; read on shutdown
  bool draining = false;
  std::unique_ptr<RateLimitCounters[]> rate_limits;  // index = ProxyOptions::rate_limits
  telemetry::WorkerMetrics metrics;
  telemetry::AccessLog* access_log = nullptr;  // null: no access log
  std::unique_ptr<redis::Client> redis;        // this worker's connection, when Redis is configured
  std::unique_ptr<redis::Client> subscriber;   // worker 0 of a process with tiered caches: purges
};

}  // namespace pier::proxy
