#include "admin/stats.h"

#include <time.h>

#include <algorithm>

#include "admin/json.h"
#include "telemetry/prometheus.h"
#include "telemetry/worker_metrics.h"

namespace pier::admin {
namespace {

using proxy::WorkerContext;
using telemetry::HistogramSnapshot;

constexpr std::array<std::string_view, 5> kClasses = {"1xx", "2xx", "3xx", "4xx", "5xx"};

std::string route_label(const proxy::Runtime& rt, std::size_t i) {
  if (i >= rt.options.routes.size()) return "none";
  const proxy::RouteOptions& r = rt.options.routes[i];
  std::string host = r.host_kind == proxy::HostMatchKind::Any      ? "*"
                     : r.host_kind == proxy::HostMatchKind::Suffix ? "*" + r.host
                                                                   : r.host;
  return std::to_string(i) + ":" + host + r.path_prefix;
}

std::int64_t wall_ms() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

template <class F>
std::uint64_t sum_workers(const proxy::Server& s, F&& f) {
  std::uint64_t n = 0;
  for (const auto& ctx : s.contexts())
    n += f(*ctx);
  return n;
}

}  // namespace

Totals collect(const proxy::Server& server) {
  const proxy::Runtime& rt = server.runtime();
  Totals t;
  t.backends.resize(rt.clusters.size());
  for (std::size_t c = 0; c < rt.clusters.size(); ++c)
    t.backends[c].resize(rt.clusters[c]->backends().size());
  for (const auto& ctx : server.contexts()) {
    const telemetry::WorkerMetrics& m = ctx->metrics;
    for (std::size_t r = 0; r <= rt.options.routes.size(); ++r) {
      for (const auto& by_method : m.routes[r].requests) {
        for (std::size_t k = 0; k < 5; ++k) {
          t.by_class[k] += by_method[k].get();
          t.requests += by_method[k].get();
        }
      }
      t.latency.add(m.routes[r].latency);
    }
    for (std::size_t c = 0; c < t.backends.size(); ++c) {
      for (std::size_t b = 0; b < t.backends[c].size(); ++b) {
        const telemetry::BackendMetrics& bm = m.backends[c][b];
        t.backends[c][b].requests += bm.requests.get();
        t.backends[c][b].errors += bm.errors.get();
        t.backends[c][b].latency.add(bm.latency);
      }
    }
    for (std::size_t i = 0; i < rt.caches.size(); ++i) {
      t.cache_hits += m.caches[i].hits.get();
      t.cache_misses += m.caches[i].misses.get();
    }
    for (std::size_t i = 0; i < rt.options.rate_limits.size(); ++i)
      t.rate_limited += ctx->rate_limits[i].limited.load(std::memory_order_relaxed);
    t.active_connections += ctx->open_sessions.load(std::memory_order_relaxed);
  }
  return t;
}

void Sampler::tick(const proxy::Server& server) {
  Totals now = collect(server);
  auto at = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  if (have_previous_) {
    double seconds = std::chrono::duration<double>(at - previous_at_).count();
    if (seconds <= 0) seconds = 1;
    Point p;
    p.time_ms = wall_ms();
    p.rps = static_cast<double>(now.requests - previous_.requests) / seconds;
    HistogramSnapshot d = now.latency.minus(previous_.latency);
    p.p50_ms = d.quantile_us(0.50) / 1000;
    p.p95_ms = d.quantile_us(0.95) / 1000;
    p.p99_ms = d.quantile_us(0.99) / 1000;
    for (std::size_t k = 0; k < 5; ++k)
      p.class_rps[k] = static_cast<double>(now.by_class[k] - previous_.by_class[k]) / seconds;
    std::uint64_t hits = now.cache_hits - previous_.cache_hits;
    std::uint64_t misses = now.cache_misses - previous_.cache_misses;
    if (hits + misses > 0) p.cache_hit_ratio = static_cast<double>(hits) / (hits + misses);
    p.limited_rps = static_cast<double>(now.rate_limited - previous_.rate_limited) / seconds;
    p.active_connections = now.active_connections;
    points_.push_back(p);
    if (points_.size() > kPoints) points_.pop_front();
    rates_.resize(now.backends.size());
    for (std::size_t c = 0; c < now.backends.size(); ++c) {
      rates_[c].resize(now.backends[c].size());
      for (std::size_t b = 0; b < now.backends[c].size(); ++b) {
        const auto& cur = now.backends[c][b];
        const auto& old = previous_.backends[c][b];
        BackendRate& r = rates_[c][b];
        std::uint64_t reqs = cur.requests - old.requests;
        r.rps = static_cast<double>(reqs) / seconds;
        r.error_rate = reqs ? static_cast<double>(cur.errors - old.errors) / reqs : 0;
        HistogramSnapshot lat = cur.latency.minus(old.latency);
        if (lat.count() > 0) {
          double mean_ms = static_cast<double>(lat.sum_us) / lat.count() / 1000;
          r.latency_ewma_ms =
              r.latency_ewma_ms == 0 ? mean_ms : 0.3 * mean_ms + 0.7 * r.latency_ewma_ms;
        }
      }
    }
  }
  previous_ = std::move(now);
  previous_at_ = at;
  have_previous_ = true;
}

std::vector<Point> Sampler::series() const {
  std::lock_guard lock(mutex_);
  return {points_.begin(), points_.end()};
}

std::vector<std::vector<BackendRate>> Sampler::backend_rates() const {
  std::lock_guard lock(mutex_);
  return rates_;
}

std::string render_metrics(const proxy::Server& server) {
  const proxy::Runtime& rt = server.runtime();
  const auto& ctxs = server.contexts();
  std::string out;
  telemetry::PromWriter w(out);

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
    for (const auto& c : ctxs)
      h.add(c->metrics.routes[r].latency);
    if (h.count() > 0)
      w.histogram("pier_request_duration_seconds", {{"route", route_label(rt, r)}}, h);
  }

  w.family("pier_client_connections", "gauge", "Client connections open (active and idle).");
  w.sample("pier_client_connections", {}, sum_workers(server, [](const WorkerContext& c) {
             return static_cast<std::uint64_t>(c.open_sessions.load(std::memory_order_relaxed));
           }));
  w.family("pier_client_connections_total", "counter", "Client connections accepted.");
  w.sample("pier_client_connections_total", {},
           sum_workers(server, [](const WorkerContext& c) { return c.metrics.connections.get(); }));
  w.family("pier_accept_errors_total", "counter",
           "Accepts that failed (out of file descriptors, out of memory).");
  w.sample("pier_accept_errors_total", {}, sum_workers(server, [](const WorkerContext& c) {
             return c.metrics.accept_errors.get();
           }));
  w.family("pier_client_connections_shed_total", "counter",
           "Client connections turned away with 503 because no file descriptor was free.");
  w.sample(
      "pier_client_connections_shed_total", {},
      sum_workers(server, [](const WorkerContext& c) { return c.metrics.connections_shed.get(); }));
  w.family("pier_received_bytes_total", "counter", "Request bytes received from clients.");
  w.sample("pier_received_bytes_total", {},
           sum_workers(server, [](const WorkerContext& c) { return c.metrics.bytes_in.get(); }));
  w.family("pier_sent_bytes_total", "counter", "Response bytes sent to clients.");
  w.sample("pier_sent_bytes_total", {},
           sum_workers(server, [](const WorkerContext& c) { return c.metrics.bytes_out.get(); }));
  w.family("pier_received_bytes_spliced_total", "counter",
           "Request body bytes moved from clients to backends with splice(2), without a copy "
           "through Pier (part of pier_received_bytes_total).");
  w.sample("pier_received_bytes_spliced_total", {}, sum_workers(server, [](const WorkerContext& c) {
             return c.metrics.bytes_in_spliced.get();
           }));
  w.family("pier_sent_bytes_spliced_total", "counter",
           "Response body bytes moved from backends to clients with splice(2), without a copy "
           "through Pier (part of pier_sent_bytes_total).");
  w.sample("pier_sent_bytes_spliced_total", {}, sum_workers(server, [](const WorkerContext& c) {
             return c.metrics.bytes_out_spliced.get();
           }));
  w.family("pier_upstream_retries_total", "counter", "Requests retried on another backend.");
  w.sample("pier_upstream_retries_total", {},
           sum_workers(server, [](const WorkerContext& c) { return c.metrics.retries.get(); }));
  w.family("pier_upstream_retry_budget_exhausted_total", "counter",
           "Retries the retry budget refused.");
  w.sample("pier_upstream_retry_budget_exhausted_total", {},
           sum_workers(server, [](const WorkerContext& c) {
             return c.metrics.retry_budget_exhausted.get();
           }));
  w.family("pier_access_log_dropped_total", "counter",
           "Access-log lines dropped because the writer fell behind.");
  w.sample("pier_access_log_dropped_total", {}, sum_workers(server, [](const WorkerContext& c) {
             return c.metrics.access_log_dropped.get();
           }));

  // Backends.
  struct Family {
    const char* name;
    const char* type;
    const char* help;
  };
  const Family backend_families[] = {
      {"pier_upstream_requests_total", "counter", "Requests sent to a backend (final attempts)."},
      {"pier_upstream_errors_total", "counter", "Requests a backend answered 5xx or failed."},
      {"pier_upstream_connect_errors_total", "counter", "Connections to a backend that failed."},
      {"pier_upstream_timeouts_total", "counter", "Connect and response timeouts of a backend."},
      {"pier_upstream_pool_created_total", "counter", "Upstream connections opened."},
      {"pier_upstream_pool_reused_total", "counter", "Requests sent on a pooled connection."},
      {"pier_upstream_pool_idle", "gauge", "Idle pooled connections."},
      {"pier_upstream_pool_active", "gauge", "Upstream connections carrying a request."},
      {"pier_upstream_in_flight", "gauge", "Requests in flight to a backend."},
      {"pier_upstream_healthy", "gauge", "1 when the backend is usable (healthy, not ejected)."},
      {"pier_upstream_ejections_total", "counter", "Passive ejections of a backend."},
      {"pier_upstream_pool_unclean_total", "counter",
       "Idle pooled connections dropped: closed by the backend or with unrequested bytes."},
  };
  for (std::size_t f = 0; f < std::size(backend_families); ++f) {
    w.family(backend_families[f].name, backend_families[f].type, backend_families[f].help);
    for (std::size_t c = 0; c < rt.clusters.size(); ++c) {
      const auto& cluster = *rt.clusters[c];
      for (std::size_t b = 0; b < cluster.backends().size(); ++b) {
        const upstream::Backend& backend = *cluster.backends()[b];
        auto per_worker = [&](auto get) {
          return sum_workers(server, [&](const WorkerContext& ctx) { return get(ctx); });
        };
        std::uint64_t v = 0;
        switch (f) {
          case 0:
            v = per_worker(
                [&](const WorkerContext& x) { return x.metrics.backends[c][b].requests.get(); });
            break;
          case 1:
            v = per_worker(
                [&](const WorkerContext& x) { return x.metrics.backends[c][b].errors.get(); });
            break;
          case 2:
            v = per_worker([&](const WorkerContext& x) {
              return x.metrics.backends[c][b].connect_errors.get();
            });
            break;
          case 3:
            v = per_worker(
                [&](const WorkerContext& x) { return x.metrics.backends[c][b].timeouts.get(); });
            break;
          case 4:
            v = per_worker(
                [&](const WorkerContext& x) { return x.clusters[c]->pools[b]->created(); });
            break;
          case 5:
            v = per_worker(
                [&](const WorkerContext& x) { return x.clusters[c]->pools[b]->reused(); });
            break;
          case 6:
            v = per_worker([&](const WorkerContext& x) {
              return std::uint64_t{x.clusters[c]->pools[b]->idle_gauge()};
            });
            break;
          case 7: {
            std::uint64_t idle = per_worker([&](const WorkerContext& x) {
              return std::uint64_t{x.clusters[c]->pools[b]->idle_gauge()};
            });
            std::uint64_t open = backend.open_connections();
            v = open > idle ? open - idle : 0;
            break;
          }
          case 8:
            v = backend.in_flight();
            break;
          case 9:
            v = backend.healthy() && backend.ejected_until_ns() == 0 ? 1 : 0;
            break;
          case 10:
            v = backend.times_ejected();
            break;
          case 11:
            v = per_worker(
                [&](const WorkerContext& x) { return x.clusters[c]->pools[b]->unclean(); });
            break;
        }
        w.sample(backend_families[f].name,
                 {{"upstream", cluster.name()}, {"backend", backend.name()}}, v);
      }
    }
  }
  w.family("pier_upstream_request_duration_seconds", "histogram",
           "Request duration by the backend that answered.");
  for (std::size_t c = 0; c < rt.clusters.size(); ++c) {
    const auto& cluster = *rt.clusters[c];
    for (std::size_t b = 0; b < cluster.backends().size(); ++b) {
      HistogramSnapshot h;
      for (const auto& x : ctxs)
        h.add(x->metrics.backends[c][b].latency);
      w.histogram("pier_upstream_request_duration_seconds",
                  {{"upstream", cluster.name()}, {"backend", cluster.backends()[b]->name()}}, h);
    }
  }

  // Caches.
  const Family cache_families[] = {
      {"pier_cache_hits_total", "counter", "Responses served from the cache."},
      {"pier_cache_misses_total", "counter", "Cacheable requests that went to the backend."},
      {"pier_cache_stale_total", "counter", "Stale responses served (within their windows)."},
      {"pier_cache_revalidated_total", "counter", "Stale entries refreshed by a 304."},
      {"pier_cache_stored_total", "counter", "Responses stored."},
      {"pier_cache_purged_total", "counter", "PURGE requests that removed something."},
  };
  for (std::size_t f = 0; f < std::size(cache_families); ++f) {
    w.family(cache_families[f].name, cache_families[f].type, cache_families[f].help);
    for (std::size_t i = 0; i < rt.caches.size(); ++i) {
      std::uint64_t v = sum_workers(server, [&](const WorkerContext& x) {
        const telemetry::CacheMetrics& m = x.metrics.caches[i];
        const telemetry::Counter* cells[] = {&m.hits,        &m.misses, &m.stale,
                                             &m.revalidated, &m.stored, &m.purged};
        return cells[f]->get();
      });
      w.sample(cache_families[f].name, {{"cache", rt.caches[i]->options.name}}, v);
    }
  }
  w.family("pier_cache_entries", "gauge", "URLs in the memory store.");
  w.family("pier_cache_bytes", "gauge", "Bytes in the memory store.");
  w.family("pier_cache_evictions_total", "counter", "Entries evicted from the memory store.");
  for (const auto& cache : rt.caches) {
    if (!cache->memory) continue;
    cache::StoreStats s = cache->memory->stats();
    w.sample("pier_cache_entries", {{"cache", cache->options.name}}, s.entries);
    w.sample("pier_cache_bytes", {{"cache", cache->options.name}}, s.bytes);
    w.sample("pier_cache_evictions_total", {{"cache", cache->options.name}}, s.evictions);
  }

  // Rate limits.
  w.family("pier_ratelimit_allowed_total", "counter", "Requests a rate limit let through.");
  w.family("pier_ratelimit_limited_total", "counter", "Requests a rate limit refused (429).");
  w.family("pier_ratelimit_redis_errors_total", "counter",
           "Decisions Redis could not make (on_redis_error applied).");
  for (std::size_t i = 0; i < rt.options.rate_limits.size(); ++i) {
    const std::string& name = rt.options.rate_limits[i].name;
    auto sum = [&](auto member) {
      return sum_workers(server, [&](const WorkerContext& x) {
        return (x.rate_limits[i].*member).load(std::memory_order_relaxed);
      });
    };
    w.sample("pier_ratelimit_allowed_total", {{"limit", name}},
             sum(&proxy::RateLimitCounters::allowed));
    w.sample("pier_ratelimit_limited_total", {{"limit", name}},
             sum(&proxy::RateLimitCounters::limited));
    w.sample("pier_ratelimit_redis_errors_total", {{"limit", name}},
             sum(&proxy::RateLimitCounters::redis_errors));
  }

  // Redis.
  if (rt.options.redis) {
    w.family("pier_redis_up", "gauge", "1 when every worker's Redis connection is up.");
    w.family("pier_redis_commands_total", "counter", "Redis commands sent.");
    w.family("pier_redis_errors_total", "counter", "Redis commands failed (down, timeout, error).");
    w.family("pier_redis_timeouts_total", "counter", "Redis commands past redis.timeout.");
    w.family("pier_redis_reconnects_total", "counter", "Redis connections lost and retried.");
    std::uint64_t up = 1, commands = 0, errors = 0, timeouts = 0, reconnects = 0;
    for (const auto& x : ctxs) {
      if (!x->redis) continue;
      const redis::ClientStats& s = x->redis->stats();
      up = up && s.up.load(std::memory_order_relaxed);
      commands += s.commands.load(std::memory_order_relaxed);
      errors += s.errors.load(std::memory_order_relaxed);
      timeouts += s.timeouts.load(std::memory_order_relaxed);
      reconnects += s.reconnects.load(std::memory_order_relaxed);
    }
    w.sample("pier_redis_up", {}, up);
    w.sample("pier_redis_commands_total", {}, commands);
    w.sample("pier_redis_errors_total", {}, errors);
    w.sample("pier_redis_timeouts_total", {}, timeouts);
    w.sample("pier_redis_reconnects_total", {}, reconnects);
  }
  w.family("pier_uptime_seconds", "gauge", "Seconds since Pier started.");
  w.sample(
      "pier_uptime_seconds", {},
      std::chrono::duration<double>(std::chrono::steady_clock::now() - server.started()).count());
  return out;
}

std::string render_status(const proxy::Server& server) {
  const proxy::Runtime& rt = server.runtime();
  std::string out;
  Json j(out);
  j.begin_object()
      .field("version", PIER_VERSION_STRING)
      .field("uptime_s",
             std::chrono::duration<double>(std::chrono::steady_clock::now() - server.started())
                 .count())
      .field("workers", static_cast<std::uint64_t>(rt.options.workers));
  j.key("listeners").begin_array();
  for (const auto& l : rt.options.listeners)
    j.begin_object().field("name", l.name).field("address", l.address).end_object();
  j.end_array();
  j.key("upstreams").begin_array();
  for (const auto& c : rt.clusters)
    j.begin_object()
        .field("name", c->name())
        .field("backends", static_cast<std::uint64_t>(c->backends().size()))
        .end_object();
  j.end_array();
  j.key("routes").begin_array();
  for (std::size_t i = 0; i < rt.options.routes.size(); ++i) {
    const auto& r = rt.options.routes[i];
    j.begin_object().field("route", route_label(rt, i)).field("upstream", r.upstream);
    if (r.cache_index) j.field("cache", rt.options.caches[*r.cache_index].name);
    j.key("rate_limits").begin_array();
    for (std::size_t l : r.rate_limits)
      j.value(rt.options.rate_limits[l].name);
    j.end_array().end_object();
  }
  j.end_array();
  j.field("redis", rt.options.redis ? std::string_view(rt.options.redis->url) : "");
  j.end_object();
  return out;
}

std::string render_upstreams(const proxy::Server& server, const Sampler& sampler) {
  const proxy::Runtime& rt = server.runtime();
  auto rates = sampler.backend_rates();
  TimePoint now = Clock::now();
  std::string out;
  Json j(out);
  j.begin_object().key("upstreams").begin_array();
  for (std::size_t c = 0; c < rt.clusters.size(); ++c) {
    const auto& cluster = *rt.clusters[c];
    j.begin_object().field("name", cluster.name()).key("backends").begin_array();
    for (std::size_t b = 0; b < cluster.backends().size(); ++b) {
      const upstream::Backend& backend = *cluster.backends()[b];
      BackendRate r = c < rates.size() && b < rates[c].size() ? rates[c][b] : BackendRate{};
      std::int64_t until = backend.ejected_until_ns();
      std::int64_t now_ns = now.time_since_epoch().count();
      bool ejected = until != 0 && until > now_ns;
      j.begin_object()
          .field("address", backend.name())
          .field("weight", static_cast<std::uint64_t>(backend.weight()))
          .field("healthy", backend.healthy())
          .field("ejected", ejected)
          .field("ejected_for_s", ejected ? static_cast<double>(until - now_ns) / 1e9 : 0.0)
          .field("in_flight", static_cast<std::uint64_t>(backend.in_flight()))
          .field("open_connections", static_cast<std::uint64_t>(backend.open_connections()))
          .field("rps", r.rps)
          .field("error_rate", r.error_rate)
          .field("latency_ewma_ms", r.latency_ewma_ms)
          .end_object();
    }
    j.end_array().end_object();
  }
  j.end_array().end_object();
  return out;
}

std::string render_cache(const proxy::Server& server) {
  const proxy::Runtime& rt = server.runtime();
  std::string out;
  Json j(out);
  j.begin_object().key("caches").begin_array();
  for (std::size_t i = 0; i < rt.caches.size(); ++i) {
    const auto& cache = *rt.caches[i];
    auto sum = [&](telemetry::Counter telemetry::CacheMetrics::*member) {
      return sum_workers(
          server, [&](const WorkerContext& x) { return (x.metrics.caches[i].*member).get(); });
    };
    const char* store = cache.options.store == proxy::CacheStore::Memory  ? "memory"
                        : cache.options.store == proxy::CacheStore::Redis ? "redis"
                                                                          : "tiered";
    std::uint64_t hits = sum(&telemetry::CacheMetrics::hits);
    std::uint64_t misses = sum(&telemetry::CacheMetrics::misses);
    j.begin_object()
        .field("name", cache.options.name)
        .field("store", store)
        .field("hits", hits)
        .field("misses", misses)
        .field("hit_ratio", hits + misses ? static_cast<double>(hits) / (hits + misses) : 0.0)
        .field("stale", sum(&telemetry::CacheMetrics::stale))
        .field("revalidated", sum(&telemetry::CacheMetrics::revalidated))
        .field("stored", sum(&telemetry::CacheMetrics::stored))
        .field("purged", sum(&telemetry::CacheMetrics::purged));
    if (cache.memory) {
      cache::StoreStats s = cache.memory->stats();
      j.field("entries", s.entries)
          .field("bytes", s.bytes)
          .field("max_bytes", static_cast<std::uint64_t>(cache.options.max_bytes))
          .field("evictions", s.evictions);
    }
    j.end_object();
  }
  j.end_array().end_object();
  return out;
}

std::string render_ratelimits(const proxy::Server& server) {
  const proxy::Runtime& rt = server.runtime();
  std::string out;
  Json j(out);
  j.begin_object().key("rate_limits").begin_array();
  for (std::size_t i = 0; i < rt.options.rate_limits.size(); ++i) {
    const auto& l = rt.options.rate_limits[i];
    auto sum = [&](auto member) {
      return sum_workers(server, [&](const WorkerContext& x) {
        return (x.rate_limits[i].*member).load(std::memory_order_relaxed);
      });
    };
    j.begin_object()
        .field("name", l.name)
        .field("store", l.redis ? "redis" : "local")
        .field("rate_per_s", 1e6 / static_cast<double>(l.limit.interval_us))
        .field("burst", l.limit.burst)
        .field("allowed", sum(&proxy::RateLimitCounters::allowed))
        .field("limited", sum(&proxy::RateLimitCounters::limited))
        .field("redis_errors", sum(&proxy::RateLimitCounters::redis_errors))
        .field("local_keys", static_cast<std::uint64_t>(rt.limiters[i]->size()))
        .end_object();
  }
  j.end_array().end_object();
  return out;
}

std::string render_series(const Sampler& sampler) {
  std::string out;
  Json j(out);
  j.begin_object().key("points").begin_array();
  for (const Point& p : sampler.series()) {
    j.begin_object()
        .field("t", p.time_ms)
        .field("rps", p.rps)
        .field("p50_ms", p.p50_ms)
        .field("p95_ms", p.p95_ms)
        .field("p99_ms", p.p99_ms);
    j.key("class_rps").begin_array();
    for (double v : p.class_rps)
      j.value(v);
    j.end_array();
    if (p.cache_hit_ratio < 0) {
      j.key("cache_hit_ratio").null();
    } else {
      j.field("cache_hit_ratio", p.cache_hit_ratio);
    }
    j.field("limited_rps", p.limited_rps)
        .field("active_connections", p.active_connections)
        .end_object();
  }
  j.end_array().end_object();
  return out;
}

bool ready(const proxy::Server& server, std::vector<std::string>& reasons) {
  const proxy::Runtime& rt = server.runtime();
  TimePoint now = Clock::now();
  for (std::size_t i = 0; i < rt.options.routes.size(); ++i) {
    const auto& cluster = *rt.clusters[rt.options.routes[i].cluster_index];
    bool any = std::any_of(cluster.backends().begin(), cluster.backends().end(),
                           [&](const auto& b) { return b->healthy() && !b->ejected(now); });
    if (!any) {
      reasons.push_back("route " + route_label(rt, i) + ": no usable backend in upstream " +
                        cluster.name());
    }
  }
  return reasons.empty();
}

}  // namespace pier::admin
