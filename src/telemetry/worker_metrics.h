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

// The counters above as Prometheus families, declared once: name and help beside the cell each
// reads. The admin thread walks these tables (admin/stats.cc), summing the workers; a new counter
// is one line here.
template <class Cells>
struct CounterFamily {
  std::string_view name;
  std::string_view help;
  Counter Cells::*cell;
};

inline constexpr CounterFamily<WorkerMetrics> kWorkerCounters[] = {
    {"pier_client_connections_total", "Client connections accepted.", &WorkerMetrics::connections},
    {"pier_accept_errors_total", "Accepts that failed (out of file descriptors, out of memory).",
     &WorkerMetrics::accept_errors},
    {"pier_client_connections_shed_total",
     "Client connections turned away with 503 because no file descriptor was free.",
     &WorkerMetrics::connections_shed},
    {"pier_received_bytes_total", "Request bytes received from clients.", &WorkerMetrics::bytes_in},
    {"pier_sent_bytes_total", "Response bytes sent to clients.", &WorkerMetrics::bytes_out},
    {"pier_received_bytes_spliced_total",
     "Request body bytes moved from clients to backends with splice(2), without a copy through "
     "Pier (part of pier_received_bytes_total).",
     &WorkerMetrics::bytes_in_spliced},
    {"pier_sent_bytes_spliced_total",
     "Response body bytes moved from backends to clients with splice(2), without a copy through "
     "Pier (part of pier_sent_bytes_total).",
     &WorkerMetrics::bytes_out_spliced},
    {"pier_upstream_retries_total", "Requests retried on another backend.",
     &WorkerMetrics::retries},
    {"pier_upstream_retry_budget_exhausted_total", "Retries the retry budget refused.",
     &WorkerMetrics::retry_budget_exhausted},
    {"pier_access_log_dropped_total", "Access-log lines dropped because the writer fell behind.",
     &WorkerMetrics::access_log_dropped},
};

// Labelled by upstream and backend.
inline constexpr CounterFamily<BackendMetrics> kBackendCounters[] = {
    {"pier_upstream_requests_total", "Requests sent to a backend (final attempts).",
     &BackendMetrics::requests},
    {"pier_upstream_errors_total", "Requests a backend answered 5xx or failed.",
     &BackendMetrics::errors},
    {"pier_upstream_connect_errors_total", "Connections to a backend that failed.",
     &BackendMetrics::connect_errors},
    {"pier_upstream_timeouts_total", "Connect and response timeouts of a backend.",
     &BackendMetrics::timeouts},
};

// Labelled by cache.
inline constexpr CounterFamily<CacheMetrics> kCacheCounters[] = {
    {"pier_cache_hits_total", "Responses served from the cache.", &CacheMetrics::hits},
    {"pier_cache_misses_total", "Cacheable requests that went to the backend.",
     &CacheMetrics::misses},
    {"pier_cache_stale_total", "Stale responses served (within their windows).",
     &CacheMetrics::stale},
    {"pier_cache_revalidated_total", "Stale entries refreshed by a 304.",
     &CacheMetrics::revalidated},
    {"pier_cache_stored_total", "Responses stored.", &CacheMetrics::stored},
    {"pier_cache_purged_total", "PURGE requests that removed something.", &CacheMetrics::purged},
};

}  // namespace pier::telemetry
