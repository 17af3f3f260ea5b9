#include "telemetry/worker_metrics.h"

namespace pier::telemetry {

std::string_view method_label(std::size_t m) {
  static constexpr std::array<std::string_view, kMethodClasses> kLabels = {
      "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other"};
  return kLabels[m];
}

WorkerMetrics::WorkerMetrics(std::size_t route_count,
                             const std::vector<std::size_t>& backends_per_cluster,
                             std::size_t cache_count)
    : routes(std::make_unique<RouteMetrics[]>(route_count + 1)),
      caches(std::make_unique<CacheMetrics[]>(cache_count)) {
  for (std::size_t n : backends_per_cluster)
    backends.push_back(std::make_unique<BackendMetrics[]>(n));
}

}  // namespace pier::telemetry
