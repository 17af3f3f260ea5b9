// A backend's live state, shared by all workers through relaxed atomics. The only write per
// request is the in-flight count (least connections and max_connections need it); health and
// ejection change only on state transitions.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "net/clock.h"
#include "upstream/options.h"

namespace pier::upstream {

class Cluster;

class alignas(64) Backend {  // its own cache line: workers write in_flight concurrently
 public:
  Backend(const BackendOptions& options, Cluster& cluster, std::size_t index)
      : options_(options), cluster_(&cluster), index_(index) {}

  const std::string& name() const { return options_.address; }
  const asio::ip::tcp::endpoint& endpoint() const { return options_.endpoint; }
  std::uint32_t weight() const { return options_.weight; }
  std::size_t index() const { return index_; }
  Cluster& cluster() const { return *cluster_; }

  // Usable = healthy by active checks and not ejected by passive detection.
  // Not const: the first caller to see an ejection expire ends it (and logs that once).
  bool usable(TimePoint now);
  bool healthy() const { return healthy_.load(std::memory_order_relaxed); }
  // For the admin API: when the current ejection ends (Clock ticks, ns; 0 = not ejected).
  std::int64_t ejected_until_ns() const { return ejected_until_.load(std::memory_order_relaxed); }
  std::uint32_t times_ejected() const { return times_ejected_.load(std::memory_order_relaxed); }
  bool ejected(TimePoint now) const;

  std::uint32_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  void begin_request() { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  void end_request() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }

  // max_connections: reserves a connection slot; false when the backend is at its limit.
  bool try_reserve_connection(std::size_t max_connections);
  void release_connection() { open_connections_.fetch_sub(1, std::memory_order_relaxed); }
  std::uint32_t open_connections() const {
    return open_connections_.load(std::memory_order_relaxed);
  }

  // Active health checks (one checker thread writes these).
  void set_healthy(bool healthy) { healthy_.store(healthy, std::memory_order_relaxed); }

  // Passive outlier detection.
  void record_success();
  void record_failure(TimePoint now);

 private:
  friend class Cluster;

  BackendOptions options_;
  Cluster* cluster_;
  std::size_t index_;
  std::atomic<std::uint32_t> in_flight_{0};
  std::atomic<std::uint32_t> open_connections_{0};
  std::atomic<bool> healthy_{true};  // assumed up at start, as nginx and HAProxy do
  std::atomic<std::uint32_t> consecutive_failures_{0};
  std::atomic<std::int64_t> ejected_until_{0};  // Clock ticks (ns); 0 = not ejected
  std::atomic<std::uint32_t> times_ejected_{0};
  std::atomic<bool> ejection_logged_{false};  // true while an ejection is announced and not over
};

}  // namespace pier::upstream
