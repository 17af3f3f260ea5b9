// Metric cells written by one worker and read by the admin thread: relaxed atomics, and a plain
// load + store instead of a locked read-modify-write, since each cell has a single writer. A
// scrape sums the workers' cells (DESIGN.md: no shared atomics on the hot path).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace pier::telemetry {

class Counter {
 public:
  void add(std::uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint64_t get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// Request latency buckets, in microseconds (exposed in seconds): 0.5 ms to 10 s.
inline constexpr std::array<std::uint64_t, 14> kLatencyBucketsUs = {
    500,    1000,   2500,   5000,    10000,   25000,   50000,
    100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};

class Histogram {
 public:
  static constexpr std::size_t kBuckets = kLatencyBucketsUs.size();

  void observe(std::uint64_t us) {
    std::size_t i = 0;
    while (i < kBuckets && us > kLatencyBucketsUs[i])
      ++i;
    buckets_[i].add();  // buckets_[kBuckets] is +Inf
    sum_us_.add(us);
  }
  // Non-cumulative count of bucket i (i == kBuckets: above the last bound).
  std::uint64_t bucket(std::size_t i) const { return buckets_[i].get(); }
  std::uint64_t sum_us() const { return sum_us_.get(); }
  std::uint64_t count() const {
    std::uint64_t n = 0;
    for (const Counter& c : buckets_)
      n += c.get();
    return n;
  }

 private:
  std::array<Counter, kBuckets + 1> buckets_;
  Counter sum_us_;
};

// A histogram's totals copied out (summed over workers, or a difference of two snapshots).
struct HistogramSnapshot {
  std::array<std::uint64_t, Histogram::kBuckets + 1> buckets{};
  std::uint64_t sum_us = 0;

  void add(const Histogram& h) {
    for (std::size_t i = 0; i < buckets.size(); ++i)
      buckets[i] += h.bucket(i);
    sum_us += h.sum_us();
  }
  std::uint64_t count() const {
    std::uint64_t n = 0;
    for (auto b : buckets)
      n += b;
    return n;
  }
  HistogramSnapshot minus(const HistogramSnapshot& earlier) const {
    HistogramSnapshot d;
    for (std::size_t i = 0; i < buckets.size(); ++i)
      d.buckets[i] = buckets[i] - earlier.buckets[i];
    d.sum_us = sum_us - earlier.sum_us;
    return d;
  }
  // The q-quantile (0..1) in microseconds, interpolated within its bucket as Prometheus's
  // histogram_quantile does; 0 when empty.
  double quantile_us(double q) const;
};

}  // namespace pier::telemetry
