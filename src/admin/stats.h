// Figures for the admin listener, summed over the workers at the moment they are asked for
// (workers write only their own counters), and a once-a-second series for the dashboard.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "proxy/server.h"
#include "telemetry/counters.h"

namespace pier::admin {

// Whole-process totals at one moment.
struct Totals {
  std::uint64_t requests = 0;
  std::array<std::uint64_t, 5> by_class{};  // 1xx..5xx
  telemetry::HistogramSnapshot latency;     // all routes
  std::uint64_t cache_hits = 0;
  std::uint64_t cache_misses = 0;
  std::uint64_t rate_limited = 0;
  std::uint64_t active_connections = 0;
  struct Backend {
    std::uint64_t requests = 0;
    std::uint64_t errors = 0;
    telemetry::HistogramSnapshot latency;
  };
  std::vector<std::vector<Backend>> backends;  // [cluster][backend]
};
Totals collect(const proxy::Server& server);

// One second of the dashboard's charts.
struct Point {
  std::int64_t time_ms = 0;  // wall clock
  double rps = 0;
  double p50_ms = 0, p95_ms = 0, p99_ms = 0;
  std::array<double, 5> class_rps{};
  double cache_hit_ratio = -1;  // -1: no cache traffic that second
  double limited_rps = 0;
  std::uint64_t active_connections = 0;
};

// Per backend, over the last second: what /api/upstreams shows.
struct BackendRate {
  double rps = 0;
  double error_rate = 0;       // errors / requests, 0..1
  double latency_ewma_ms = 0;  // smoothed mean latency
};

class Sampler {
 public:
  static constexpr std::size_t kPoints = 300;  // five minutes at one point a second

  // Called once a second (admin thread): the difference with the previous call becomes a point.
  void tick(const proxy::Server& server);
  std::vector<Point> series() const;
  std::vector<std::vector<BackendRate>> backend_rates() const;

 private:
  mutable std::mutex mutex_;  // the admin thread samples; its request handlers read
  bool have_previous_ = false;
  Totals previous_;
  std::chrono::steady_clock::time_point previous_at_{};
  std::deque<Point> points_;
  std::vector<std::vector<BackendRate>> rates_;
};

// GET /metrics: the Prometheus text format.
std::string render_metrics(const proxy::Server& server);

// The JSON API.
std::string render_status(const proxy::Server& server);
std::string render_upstreams(const proxy::Server& server, const Sampler& sampler);
std::string render_cache(const proxy::Server& server);
std::string render_ratelimits(const proxy::Server& server);
std::string render_series(const Sampler& sampler);

// GET /readyz: ready when every route has a usable backend; the reasons when not.
bool ready(const proxy::Server& server, std::vector<std::string>& reasons);

}  // namespace pier::admin
