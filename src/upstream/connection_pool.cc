#include "upstream/connection_pool.h"

#include <algorithm>

#include "net/splice.h"

namespace pier::upstream {

ConnectionPool::ConnectionPool(asio::io_context& io, Backend& backend, const PoolOptions& options)
    : io_(io), backend_(&backend), options_(&options) {}

ConnectionPool::~ConnectionPool() {
  while (!idle_.empty()) {
    close(std::move(idle_.back()));
    idle_.pop_back();
  }
}

UpstreamConnectionPtr ConnectionPool::take_idle(TimePoint now) {
  prune(now);
  while (!idle_.empty()) {
    UpstreamConnectionPtr conn = std::move(idle_.back());
    idle_.pop_back();
    conn->idle_epoch = 0;
    if (conn->watched) {
      std::error_code ignored;
      conn->stream.cancel();  // ends the idle watch; its completion sees epoch 0 and returns
      conn->watched = false;
    }
    // Bytes or a FIN already waiting: the backend closed, or sent what nobody asked for (the
    // next request would take it for its response). One recv(MSG_PEEK) per reuse closes the
    // window before the idle watch is armed, and the one between the watch's wake-up and its
    // handler.
    if (conn->stream.has_pending_input()) {
      close(std::move(conn));
      unclean_.add();
      continue;
    }
    conn->reused = true;
    reused_.add();
    count_idle();
    return conn;
  }
  count_idle();
  return nullptr;
}

UpstreamConnectionPtr ConnectionPool::reserve_new() {
  if (!backend_->try_reserve_connection(options_->max_connections)) return nullptr;
  created_.add();
  return std::make_unique<UpstreamConnection>(io_, *backend_);
}

void ConnectionPool::release(UpstreamConnectionPtr conn, Reuse reuse, TimePoint now) {
  if (reuse == Reuse::No || !conn->stream.is_open() || options_->max_idle == 0) {
    close(std::move(conn));
    wake_one();
    return;
  }
  if (idle_.size() >= options_->max_idle) {
    close(std::move(idle_.front()));  // keep the most recent ones: they are the warmest
    idle_.pop_front();
  }
  conn->idle_since = now;
  conn->idle_epoch = next_epoch_++;
  idle_.push_back(std::move(conn));
  count_idle();
  wake_one();
}

void ConnectionPool::watch(UpstreamConnection& conn) {
  conn.watched = true;
  UpstreamConnection* raw = &conn;
  std::uint64_t epoch = conn.idle_epoch;
  // A wait, not a read: the bytes stay in the socket, where take_idle's check still sees them
  // should the wake-up and a take race.
  conn.stream.async_wait(net::Stream::Wait::Read, [this, raw, epoch](const std::error_code& ec) {
    if (ec == asio::error::operation_aborted) return;
    on_idle_event(raw, epoch);
  });
}

// Readable while idle means the backend closed the connection or sent bytes nobody asked for:
// either way the connection must not carry another request.
void ConnectionPool::on_idle_event(UpstreamConnection* conn, std::uint64_t epoch) {
  // Look the pointer up before touching it: the connection may have been taken and freed.
  auto it = std::find_if(idle_.begin(), idle_.end(),
                         [conn](const UpstreamConnectionPtr& p) { return p.get() == conn; });
  if (it == idle_.end() || (*it)->idle_epoch != epoch) return;
  UpstreamConnectionPtr dead = std::move(*it);
  idle_.erase(it);
  close(std::move(dead));
  unclean_.add();
  count_idle();
  wake_one();
}

void ConnectionPool::prune(TimePoint now) {
  while (!idle_.empty() && now - idle_.front()->idle_since >= options_->idle_timeout) {
    close(std::move(idle_.front()));
    idle_.pop_front();
    count_idle();
  }
  for (auto& conn : idle_) {  // oldest first: stop at the first one idle less than a tick
    if (conn->watched) continue;
    if (now - conn->idle_since < net::DeadlineSweeper::kTick) break;
    watch(*conn);
  }
}

void ConnectionPool::close(UpstreamConnectionPtr conn) {
  std::error_code ignored;
  conn->stream.close();
}  // the connection's destructor gives its max_connections slot back

void ConnectionPool::remove_waiter(asio::steady_timer& timer) {
  auto it = std::find(waiters_.begin(), waiters_.end(), &timer);
  if (it != waiters_.end()) waiters_.erase(it);
}

void ConnectionPool::wake_one() {
  if (!waiters_.empty()) waiters_.front()->cancel();
}

}  // namespace pier::upstream
