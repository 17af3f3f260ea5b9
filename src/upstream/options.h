// Typed options of an upstream cluster, filled and validated by config/.
#pragma once

#include <asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "balancing/balancer.h"
#include "base/units.h"

namespace pier::upstream {

using namespace std::chrono_literals;

struct BackendOptions {
  std::string address;  // as written: "127.0.0.1:9001" (names logs and metrics)
  asio::ip::tcp::endpoint endpoint;
  std::uint32_t weight = 1;
};

struct PoolOptions {
  // Per backend per worker. Large on purpose: with fewer idle slots than concurrent requests, every
  // release closes a connection the next request must reopen (1,000 clients ran at 0.68x HAProxy
  // per core with 64; HAProxy keeps idle server connections without a limit by default).
  std::size_t max_idle = 1024;
  Duration idle_timeout = 60s;
  std::size_t max_connections = 0;  // per backend across workers; 0 = unlimited
  std::size_t queue_size = 1024;    // waiters per backend per worker
  Duration queue_timeout = 1s;
};

struct TimeoutOptions {
  Duration connect = 1s;
  Duration response_header = 15s;
  Duration idle = 60s;
  Duration total = Duration::zero();  // zero = off
};

struct RetryOptions {
  std::uint32_t attempts = 3;  // tries in all, the first included
  bool on_connect_failure = true;
  bool on_reset = true;
  bool on_timeout = true;  // idempotent requests only, as nginx's proxy_next_upstream timeout
  std::vector<int> on_statuses = {502, 503, 504};
  Duration backoff_base = 25ms;
  Duration backoff_max = 250ms;
  double budget_ratio = 0.2;
  std::uint32_t min_retries_per_second = 3;
  // A non-idempotent request that carries an Idempotency-Key header may be retried like an
  // idempotent one: the backend promises to apply it once whatever the number of copies.
  bool idempotency_key = false;

  bool retries_status(int status) const {
    for (int s : on_statuses) {
      if (s == status) return true;
    }
    return false;
  }
};

struct HealthOptions {
  std::string path = "/healthz";
  Duration interval = 2s;
  Duration timeout = 1s;
  std::uint32_t rise = 2;
  std::uint32_t fall = 3;
  int expect_min = 200;
  int expect_max = 399;
};

// Passive outlier detection: connect failures, resets, response timeouts and 5xx answers in a row.
struct OutlierOptions {
  std::uint32_t consecutive_failures = 5;  // 0 = passive ejection off
  Duration base_ejection = 10s;
  Duration max_ejection = 300s;
  double max_ejection_percent = 0.5;
};

struct ClusterOptions {
  std::string name;
  balancing::Algorithm balance = balancing::Algorithm::RoundRobin;
  std::vector<BackendOptions> backends;
  PoolOptions pool;
  TimeoutOptions timeouts;
  RetryOptions retry;
  std::optional<HealthOptions> health;
  OutlierOptions outlier;
  // Overload protection: requests in flight to this upstream (all its backends, all workers)
  // beyond this get 503 with Retry-After at once. 0 = no limit.
  std::uint32_t max_in_flight = 0;
};

}  // namespace pier::upstream
