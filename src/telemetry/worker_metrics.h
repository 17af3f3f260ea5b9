// What one worker counts: requests by route, method and status class, latency per route and per
// backend, upstream failures, cache and connection figures. Each worker writes only its own
// (telemetry/counters.h); the admin thread sums the workers when it is asked.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "telemetry/counters.h"

namespace pier::telemetry {

enum class MethodClass : std::uint8_t { Get, Head, Post, Put, Delete, Patch, Options, Other };
inline constexpr std::size_t kMethodClasses = 8;
std::string_view method_label(std::size_t m);

struct RouteMetrics {
  std::array<std::array<Counter, 5>, kMethodClasses> requests;  // [method][status class 1xx..5xx]
  Histogram latency;
};

struct BackendMetrics {
  Counter requests;        // attempts that reached the backend with a request
  Counter errors;          // 5xx answers and failed attempts
  Counter connect_errors;  // connect refused/failed
  Counter timeouts;        // connect, response-header or body timeouts
  Histogram latency;       // request start to the end of the response, per final backend
};

struct CacheMetrics {
  Counter hits;         // served from the cache (stale within its windows included)
  Counter misses;       // went to the backend (miss, stale, bypass)
  Counter stale;        // served stale (stale-while-revalidate, max-stale, stale-if-error)
  Counter revalidated;  // a 304 refreshed the entry
  Counter stored;
  Counter purged;
};

struct WorkerMetrics {
  WorkerMetrics(std::size_t routes, const std::vector<std::size_t>& backends_per_cluster,
                std::size_t caches);

  std::unique_ptr<RouteMetrics[]> routes;  // index = route index; [routes] = no route matched
  std::vector<std::unique_ptr<BackendMetrics[]>> backends;  // [cluster][backend]
  std::unique_ptr<CacheMetrics[]> caches;
  Counter connections;        // client connections accepted
  Counter accept_errors;      // accept(2) failures (EMFILE, ENFILE, ENOBUFS...)
  Counter connections_shed;   // connections turned away with 503 for want of a descriptor
  Counter bytes_in;           // request bytes from clients (heads and bodies)
  Counter bytes_out;          // response bytes to clients
  Counter bytes_in_spliced;   // the part of bytes_in moved with splice(2), never copied by Pier
  Counter bytes_out_spliced;  // the same for bytes_out
  Counter retries;
  Counter retry_budget_exhausted;
  Counter access_log_dropped;  // lines dropped because the log writer fell behind
};

}  // namespace pier::telemetry
