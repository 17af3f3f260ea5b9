#include "admin/stats.h"

#include <time.h>

#include <algorithm>

#include "admin/json.h"
#include "admin/worker_sums.h"
#include "telemetry/worker_metrics.h"

namespace pier::admin {
namespace {

using proxy::WorkerContext;
using telemetry::HistogramSnapshot;

std::int64_t wall_ms() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

}  // namespace

std::string route_label(const proxy::Runtime& rt, std::size_t i) {
  if (i >= rt.options.routes.size()) return "none";
  const proxy::RouteOptions& r = rt.options.routes[i];
  std::string host = r.host_kind == proxy::HostMatchKind::Any      ? "*"
                     : r.host_kind == proxy::HostMatchKind::Suffix ? "*" + r.host
                                                                   : r.host;
  return std::to_string(i) + ":" + host + r.path_prefix;
}

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
    j.begin_object()
        .field("name", l.name)
        .field("store", l.redis ? "redis" : "local")
        .field("rate_per_s", 1e6 / static_cast<double>(l.limit.interval_us))
        .field("burst", l.limit.burst);
    for (const auto& family : proxy::kRateLimitFamilies)
      j.field(family.json_field, sum_rate_limit(server, i, family));
    j.field("local_keys", static_cast<std::uint64_t>(rt.limiters[i]->size())).end_object();
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
