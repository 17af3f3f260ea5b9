// GET /metrics: every counter, gauge and histogram in the Prometheus text format, summed over the
// workers. The worker counters' names and help live beside the counters
// (telemetry/worker_metrics.h, proxy/runtime.h); this file adds what is read elsewhere.
#include "admin/stats.h"
#include "admin/worker_sums.h"
#include "telemetry/prometheus.h"
#include "telemetry/worker_metrics.h"

namespace pier::admin {

using proxy::WorkerContext;
using telemetry::HistogramSnapshot;

namespace {

template <class F>
std::uint64_t sum_pools(const proxy::Server& s, std::size_t c, std::size_t b, F&& f) {
  return sum_workers(s, [&](const WorkerContext& x) { return f(*x.clusters[c]->pools[b]); });
}

const upstream::Backend& backend_at(const proxy::Server& s, std::size_t c, std::size_t b) {
  return *s.runtime().clusters[c]->backends()[b];
}

// Per-backend figures that are not worker counters (telemetry::kBackendCounters has those):
// the pools', kept per worker and summed, and the backend's own, shared by the workers.
struct BackendReading {
  std::string_view name;
  std::string_view type;
  std::string_view help;
  std::uint64_t (*read)(const proxy::Server&, std::size_t cluster, std::size_t backend);
};

using Pool = upstream::ConnectionPool;
using Srv = proxy::Server;
using Index = std::size_t;

const BackendReading kBackendReadings[] = {
    {"pier_upstream_pool_created_total", "counter", "Upstream connections opened.",
     [](const Srv& s, Index c, Index b) {
       return sum_pools(s, c, b, [](const Pool& p) { return p.created(); });
     }},
    {"pier_upstream_pool_reused_total", "counter", "Requests sent on a pooled connection.",
     [](const Srv& s, Index c, Index b) {
       return sum_pools(s, c, b, [](const Pool& p) { return p.reused(); });
     }},
    {"pier_upstream_pool_idle", "gauge", "Idle pooled connections.",
     [](const Srv& s, Index c, Index b) {
       return sum_pools(s, c, b, [](const Pool& p) { return std::uint64_t{p.idle_gauge()}; });
     }},
    {"pier_upstream_pool_active", "gauge", "Upstream connections carrying a request.",
     [](const Srv& s, Index c, Index b) {
       std::uint64_t idle =
           sum_pools(s, c, b, [](const Pool& p) { return std::uint64_t{p.idle_gauge()}; });
       std::uint64_t open = backend_at(s, c, b).open_connections();
       return open > idle ? open - idle : 0;
     }},
    {"pier_upstream_in_flight", "gauge", "Requests in flight to a backend.",
     [](const Srv& s, Index c, Index b) { return std::uint64_t{backend_at(s, c, b).in_flight()}; }},
    {"pier_upstream_healthy", "gauge", "1 when the backend is usable (healthy, not ejected).",
     [](const Srv& s, Index c, Index b) {
       const upstream::Backend& backend = backend_at(s, c, b);
       return std::uint64_t{backend.healthy() && backend.ejected_until_ns() == 0};
     }},
    {"pier_upstream_ejections_total", "counter", "Passive ejections of a backend.",
     [](const Srv& s, Index c, Index b) {
       return std::uint64_t{backend_at(s, c, b).times_ejected()};
     }},
    {"pier_upstream_pool_unclean_total", "counter",
     "Idle pooled connections dropped: closed by the backend or with unrequested bytes.",
     [](const Srv& s, Index c, Index b) {
       return sum_pools(s, c, b, [](const Pool& p) { return p.unclean(); });
     }},
};

// Calls f(cluster index, backend index, labels) for every backend.
template <class F>
void for_each_backend(const proxy::Runtime& rt, F&& f) {
  for (std::size_t c = 0; c < rt.clusters.size(); ++c) {
    const auto& cluster = *rt.clusters[c];
    for (std::size_t b = 0; b < cluster.backends().size(); ++b) {
      f(c, b,
        telemetry::Labels{{"upstream", cluster.name()},
                          {"backend", cluster.backends()[b]->name()}});
    }
  }
}

void write_requests(const proxy::Server& server, telemetry::PromWriter& w) {
  const proxy::Runtime& rt = server.runtime();
  w.family("pier_requests_total", "counter",
           "Requests answered, by route, method and status class.");
  for (std::size_t r = 0; r <= rt.options.routes.size(); ++r) {
    std::string route = route_label(rt, r);
    for (std::size_t m = 0; m < telemetry::kMethodClasses; ++m) {
      for (std::size_t k = 0; k < 5; ++k) {
        std::uint64_t n = sum_workers(server, [&](const WorkerContext& c) {
          return c.metrics.routes[r].requests[m][k].get();
        });
        if (n == 0) continue;
        w.sample("pier_requests_total",
                 {{"route", route}, {"method", telemetry::method_label(m)}, {"code", kClasses[k]}},
                 n);
      }
    }
  }
  w.family("pier_request_duration_seconds", "histogram",
           "Time from a request's head to the end of its response, by route.");
  for (std::size_t r = 0; r <= rt.options.routes.size(); ++r) {
    HistogramSnapshot h;
    for (const auto& c : server.contexts())
      h.add(c->metrics.routes[r].latency);
    if (h.count() > 0)
      w.histogram("pier_request_duration_seconds", {{"route", route_label(rt, r)}}, h);
  }
}

void write_worker_counters(const proxy::Server& server, telemetry::PromWriter& w) {
  w.family("pier_client_connections", "gauge", "Client connections open (active and idle).");
  w.sample("pier_client_connections", {}, sum_workers(server, [](const WorkerContext& c) {
             return static_cast<std::uint64_t>(c.open_sessions.load(std::memory_order_relaxed));
           }));
  for (const auto& family : telemetry::kWorkerCounters) {
    w.family(family.name, "counter", family.help);
    w.sample(family.name, {}, sum_workers(server, [&](const WorkerContext& c) {
               return (c.metrics.*family.cell).get();
             }));
  }
}

void write_backends(const proxy::Server& server, telemetry::PromWriter& w) {
  const proxy::Runtime& rt = server.runtime();
  for (const auto& family : telemetry::kBackendCounters) {
    w.family(family.name, "counter", family.help);
    for_each_backend(rt, [&](std::size_t c, std::size_t b, telemetry::Labels labels) {
      w.sample(family.name, labels, sum_workers(server, [&](const WorkerContext& x) {
                 return (x.metrics.backends[c][b].*family.cell).get();
               }));
    });
  }
  for (const BackendReading& reading : kBackendReadings) {
    w.family(reading.name, reading.type, reading.help);
    for_each_backend(rt, [&](std::size_t c, std::size_t b, telemetry::Labels labels) {
      w.sample(reading.name, labels, reading.read(server, c, b));
    });
  }
  w.family("pier_upstream_request_duration_seconds", "histogram",
           "Request duration by the backend that answered.");
  for_each_backend(rt, [&](std::size_t c, std::size_t b, telemetry::Labels labels) {
    HistogramSnapshot h;
    for (const auto& x : server.contexts())
      h.add(x->metrics.backends[c][b].latency);
    w.histogram("pier_upstream_request_duration_seconds", labels, h);
  });
}

void write_caches(const proxy::Server& server, telemetry::PromWriter& w) {
  const proxy::Runtime& rt = server.runtime();
  for (const auto& family : telemetry::kCacheCounters) {
    w.family(family.name, "counter", family.help);
    for (std::size_t i = 0; i < rt.caches.size(); ++i) {
      std::uint64_t v = sum_workers(
          server, [&](const WorkerContext& x) { return (x.metrics.caches[i].*family.cell).get(); });
      w.sample(family.name, {{"cache", rt.caches[i]->options.name}}, v);
    }
  }
  // Each family's samples right after its HELP and TYPE: the text format wants them grouped.
  struct StoreFamily {
    std::string_view name;
    std::string_view type;
    std::string_view help;
    std::uint64_t cache::StoreStats::*value;
  };
  static constexpr StoreFamily kStoreFamilies[] = {
      {"pier_cache_entries", "gauge", "URLs in the memory store.", &cache::StoreStats::entries},
      {"pier_cache_bytes", "gauge", "Bytes in the memory store.", &cache::StoreStats::bytes},
      {"pier_cache_evictions_total", "counter", "Entries evicted from the memory store.",
       &cache::StoreStats::evictions},
  };
  std::vector<cache::StoreStats> stats;
  for (const auto& cache : rt.caches)
    stats.push_back(cache->memory ? cache->memory->stats() : cache::StoreStats{});
  for (const StoreFamily& family : kStoreFamilies) {
    w.family(family.name, family.type, family.help);
    for (std::size_t i = 0; i < rt.caches.size(); ++i) {
      if (!rt.caches[i]->memory) continue;
      w.sample(family.name, {{"cache", rt.caches[i]->options.name}}, stats[i].*family.value);
    }
  }
}

void write_rate_limits(const proxy::Server& server, telemetry::PromWriter& w) {
  const proxy::Runtime& rt = server.runtime();
  for (const auto& family : proxy::kRateLimitFamilies) {
    w.family(family.name, "counter", family.help);
    for (std::size_t i = 0; i < rt.options.rate_limits.size(); ++i) {
      w.sample(family.name, {{"limit", rt.options.rate_limits[i].name}},
               sum_rate_limit(server, i, family));
    }
  }
}

void write_redis(const proxy::Server& server, telemetry::PromWriter& w) {
  if (!server.runtime().options.redis) return;
  std::uint64_t up = 1, commands = 0, errors = 0, timeouts = 0, reconnects = 0;
  for (const auto& x : server.contexts()) {
    if (!x->redis) continue;
    const redis::ClientStats& s = x->redis->stats();
    up = up && s.up.load(std::memory_order_relaxed);
    commands += s.commands.load(std::memory_order_relaxed);
    errors += s.errors.load(std::memory_order_relaxed);
    timeouts += s.timeouts.load(std::memory_order_relaxed);
    reconnects += s.reconnects.load(std::memory_order_relaxed);
  }
  auto one = [&](std::string_view name, std::string_view type, std::string_view help,
                 std::uint64_t v) {
    w.family(name, type, help);
    w.sample(name, {}, v);
  };
  one("pier_redis_up", "gauge", "1 when every worker's Redis connection is up.", up);
  one("pier_redis_commands_total", "counter", "Redis commands sent.", commands);
  one("pier_redis_errors_total", "counter", "Redis commands failed (down, timeout, error).",
      errors);
  one("pier_redis_timeouts_total", "counter", "Redis commands past redis.timeout.", timeouts);
  one("pier_redis_reconnects_total", "counter", "Redis connections lost and retried.", reconnects);
}

}  // namespace

std::string render_metrics(const proxy::Server& server) {
  std::string out;
  telemetry::PromWriter w(out);
  write_requests(server, w);
  write_worker_counters(server, w);
  write_backends(server, w);
  write_caches(server, w);
  write_rate_limits(server, w);
  write_redis(server, w);
  w.family("pier_uptime_seconds", "gauge", "Seconds since Pier started.");
  w.sample(
      "pier_uptime_seconds", {},
      std::chrono::duration<double>(std::chrono::steady_clock::now() - server.started()).count());
  return out;
}

}  // namespace pier::admin
