#include "telemetry/counters.h"

namespace pier::telemetry {

double HistogramSnapshot::quantile_us(double q) const {
  std::uint64_t total = count();
  if (total == 0) return 0;
  double rank = q * static_cast<double>(total);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    if (buckets[i] == 0) continue;
    if (static_cast<double>(seen + buckets[i]) >= rank) {
      double lower = i == 0 ? 0.0 : static_cast<double>(kLatencyBucketsUs[i - 1]);
      if (i == Histogram::kBuckets) return lower;  // +Inf: the highest finite bound
      double upper = static_cast<double>(kLatencyBucketsUs[i]);
      double within = (rank - static_cast<double>(seen)) / static_cast<double>(buckets[i]);
      return lower + (upper - lower) * within;
    }
    seen += buckets[i];
  }
  return static_cast<double>(kLatencyBucketsUs.back());
}

}  // namespace pier::telemetry
