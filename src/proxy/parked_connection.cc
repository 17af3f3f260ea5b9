#include "proxy/parked_connection.h"

#include <asio/bind_allocator.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <optional>

#include "net/plain_allocator.h"
#include "proxy/session.h"

namespace pier::proxy {
namespace {

class ParkedConnection {
 public:
  ParkedConnection(WorkerContext& ctx, ClientConnection conn) : ctx_(ctx), conn_(std::move(conn)) {
    const HttpOptions& http = ctx.runtime->options.http;
    Duration limit = conn_.served_any ? http.keepalive_timeout : http.request_head_timeout;
    deadline_.arm(conn_.idle_since + limit);
    deadline_.on_expire = &ParkedConnection::close_now;
    deadline_.on_drain = &ParkedConnection::close_now;
    deadline_.context = this;
    ctx_.worker.deadlines().add(deadline_);
    ctx_.open_sessions.fetch_add(1, std::memory_order_relaxed);
  }
  ~ParkedConnection() {
    ctx_.worker.deadlines().remove(deadline_);
    ctx_.open_sessions.fetch_sub(1, std::memory_order_relaxed);
  }

  void wait() {
    // Held for as long as the connection stays idle: a block of its own size, not Asio's
    // recycled one (net/plain_allocator.h).
    conn_.stream.async_wait(
        net::Stream::Wait::Read,
        asio::bind_allocator(net::PlainAllocator<void>(),
                             [this](const std::error_code& ec) { on_readable(ec); }));
  }

 private:
  static void close_now(void* self) { static_cast<ParkedConnection*>(self)->conn_.stream.cancel(); }

  void on_readable(const std::error_code& ec) {
    std::unique_ptr<ParkedConnection> self(this);
    if (ec || ctx_.draining) {
      conn_.stream.close();
      return;
    }
    asio::co_spawn(ctx_.worker.io(), serve(ctx_, std::move(conn_)), asio::detached);
  }

  WorkerContext& ctx_;
  ClientConnection conn_;
  net::Deadline deadline_;
};

}  // namespace

void park(WorkerContext& ctx, ClientConnection conn) {
  (new ParkedConnection(ctx, std::move(conn)))->wait();  // owns itself until on_readable
}

asio::awaitable<void> serve(WorkerContext& ctx, ClientConnection conn) {
  std::optional<ClientConnection> parked;
  {
    Session session(ctx, std::move(conn));
    if (co_await session.run() == Session::Ending::Park) parked = session.take_connection();
  }  // the session, its buffers and scratch go back to the worker's pools here
  if (parked) park(ctx, std::move(*parked));
}

}  // namespace pier::proxy
