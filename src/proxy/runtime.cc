#include "proxy/runtime.h"

#include <random>

#include "base/thread_cache.h"
#include "proxy/cache_storage.h"

namespace pier::proxy {

Runtime::Runtime(ProxyOptions opts) : options(std::move(opts)), router(options.routes) {
  for (const auto& cluster_options : options.upstreams) {
    clusters.push_back(std::make_unique<upstream::Cluster>(cluster_options));
  }
  for (const auto& cache_options : options.caches) {
    caches.push_back(std::make_unique<SharedCache>(cache_options));
  }
  for (const auto& limit : options.rate_limits) {
    limiters.push_back(std::make_unique<ratelimit::LocalStore>(limit.max_keys));
  }
}

ClusterLocal::ClusterLocal(net::Worker& worker, upstream::Cluster& c, std::uint64_t seed)
    : cluster(&c),
      balancer(balancing::make_balancer(c.options().balance, c.backends().size(), seed)),
      targets(c.backends().size()),
      budget(c.options().retry.budget_ratio, c.options().retry.min_retries_per_second) {
  for (auto& backend : c.backends()) {
    pools.push_back(
        std::make_unique<upstream::ConnectionPool>(worker.io(), *backend, c.options().pool));
  }
  for (std::size_t i = 0; i < targets.size(); ++i)
    targets[i].weight = c.backends()[i]->weight();
}

upstream::Backend* ClusterLocal::pick(const balancing::TriedSet& tried) {
  TimePoint now = Clock::now();
  auto& backends = cluster->backends();
  for (std::size_t i = 0; i < backends.size(); ++i) {
    targets[i].usable = backends[i]->usable(now);
    targets[i].load = backends[i]->in_flight();
  }
  auto index = balancer->pick(targets, 0, tried);
  return index ? backends[*index].get() : nullptr;
}

namespace {

std::vector<std::size_t> backends_per_cluster(const Runtime& runtime) {
  std::vector<std::size_t> sizes;
  for (const auto& c : runtime.clusters)
    sizes.push_back(c->backends().size());
  return sizes;
}

// A worker's random seed, from the kernel once at start: generated request ids must not repeat
// after a restart or on another Pier of the fleet, and random balancing must not move in
// lockstep across a fleet.
std::uint64_t fresh_seed() {
  std::random_device device;
  return (std::uint64_t{device()} << 32) ^ device();
}

}  // namespace

WorkerContext::WorkerContext(net::Worker& w, std::shared_ptr<const Runtime> rt)
    : worker(w),
      runtime(std::move(rt)),
      rng(fresh_seed()),
      metrics(runtime->options.routes.size(), backends_per_cluster(*runtime),
              runtime->options.caches.size()) {
  for (const auto& cluster : runtime->clusters) {
    clusters.push_back(std::make_unique<ClusterLocal>(w, *cluster, rng.next()));
  }
  rate_limits = std::make_unique<RateLimitCounters[]>(runtime->options.rate_limits.size());
  if (runtime->options.redis) {
    const auto& redis_options = *runtime->options.redis;
    redis = std::make_unique<redis::Client>(w.io(), redis_options, "redis", w.index() == 0);
    redis->start();
    bool tiered = false;
    for (const auto& c : runtime->caches)
      tiered = tiered || (c->memory && c->options.uses_redis());
    if (tiered && w.index() == 0) {
      subscriber = std::make_unique<redis::Client>(w.io(), redis_options, "redis", false);
      subscriber->subscribe(std::string(kPurgeChannel), [rt = runtime.get()](std::string_view key) {
        apply_fleet_purge(*rt, key);
      });
      subscriber->start();
    }
  }
  // Idle pooled connections older than idle_timeout are closed even when no request comes.
  w.deadlines().on_tick([this](TimePoint now) {
    for (auto& local : clusters) {
      for (auto& pool : local->pools)
        pool->prune(now);
    }
    if (now - last_trim >= kTrimPeriod) {
      last_trim = now;
      worker.buffers().trim(kBuffersKept);
      worker.body_buffers().trim(kBuffersKept / 4);
      scratch.trim(kBuffersKept);
      worker.pipes().trim(kPipesKept);
      flush_thread_cache();  // what the last burst freed goes back to the allocator
    }
  });
}

}  // namespace pier::proxy
