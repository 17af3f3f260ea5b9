// Idle keep-alive connections to one backend, owned by one worker (no locks).
//
// Nothing unread may be on a connection that carries the next request: bytes a backend sent after
// its response would be taken for the next response (response queue poisoning). So take_idle
// peeks at the socket once (recv(MSG_PEEK), EAGAIN when clean) and drops a connection with bytes
// or a FIN waiting. A connection idle for more than a deadline tick also gets a readability wait,
// so that one the backend closes while it sits unused is dropped at once (its descriptor freed).
// A backend that closes just as a request is written is covered by the session's retry rules.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "net/clock.h"
#include "net/deadline.h"
#include "net/stream.h"
#include "telemetry/counters.h"
#include "upstream/backend.h"

namespace pier::upstream {

class ConnectionPool;

// Counts in its backend's open_connections for as long as it exists (ConnectionPool::reserve_new
// took the slot), so max_connections stays right however the connection ends.
struct UpstreamConnection {
  UpstreamConnection(asio::io_context& io, Backend& b) : stream(io), backend(&b) {}
  ~UpstreamConnection() { backend->release_connection(); }
  UpstreamConnection(const UpstreamConnection&) = delete;
  UpstreamConnection& operator=(const UpstreamConnection&) = delete;
  net::Stream stream;
  Backend* backend;
  bool reused = false;           // taken from the idle pool rather than freshly connected
  std::uint64_t idle_epoch = 0;  // tells a stale idle-watch completion from a current one
  bool watched = false;          // the idle watch's readability wait is pending
  TimePoint idle_since{};
};
using UpstreamConnectionPtr = std::unique_ptr<UpstreamConnection>;

enum class Reuse { No, Yes };

class ConnectionPool {
 public:
  ConnectionPool(asio::io_context& io, Backend& backend, const PoolOptions& options);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  Backend& backend() { return *backend_; }
  const PoolOptions& options() const { return *options_; }

  // The most recently used live idle connection with nothing unread on it, or null.
  UpstreamConnectionPtr take_idle(TimePoint now);
  // A new, unconnected socket if max_connections allows one more, else null.
  UpstreamConnectionPtr reserve_new();
  // Gives a connection back after a request: kept idle when Reuse::Yes and there is room.
  void release(UpstreamConnectionPtr conn, Reuse reuse, TimePoint now);

  // Waiting for capacity: a waiter sleeps on its timer; release() wakes the oldest.
  void add_waiter(asio::steady_timer& timer) { waiters_.push_back(&timer); }
  void remove_waiter(asio::steady_timer& timer);
  std::size_t waiting() const { return waiters_.size(); }

  // Each tick: closes connections idle longer than idle_timeout, watches those idle a tick.
  void prune(TimePoint now);
  std::size_t idle_count() const { return idle_.size(); }

  // For metrics, read from the admin thread (written by this pool's worker only).
  std::uint64_t created() const { return created_.get(); }
  std::uint64_t reused() const { return reused_.get(); }
  // Idle connections dropped because the backend closed them or sent unrequested bytes.
  std::uint64_t unclean() const { return unclean_.get(); }
  std::uint32_t idle_gauge() const { return idle_gauge_.load(std::memory_order_relaxed); }

 private:
  void watch(UpstreamConnection& conn);
  void on_idle_event(UpstreamConnection* conn, std::uint64_t epoch);
  void close(UpstreamConnectionPtr conn);
  void wake_one();

  asio::io_context& io_;
  Backend* backend_;
  const PoolOptions* options_;
  std::deque<UpstreamConnectionPtr> idle_;  // oldest at the front, reused from the back
  std::vector<asio::steady_timer*> waiters_;
  std::uint64_t next_epoch_ = 1;
  telemetry::Counter created_;
  telemetry::Counter reused_;
  telemetry::Counter unclean_;
  std::atomic<std::uint32_t> idle_gauge_{0};
  void count_idle() {
    idle_gauge_.store(static_cast<std::uint32_t>(idle_.size()), std::memory_order_relaxed);
  }
};

}  // namespace pier::upstream
