#include "proxy/server.h"

#include <spdlog/spdlog.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <chrono>
#include <future>
#include <thread>

#include "net/descriptor_reserve.h"
#include "proxy/io.h"
#include "proxy/parked_connection.h"
#include "upstream/health_checker.h"

namespace pier::proxy {

using asio::ip::tcp;

struct Server::Acceptor {
  Acceptor(WorkerContext& c, asio::io_context& io) : ctx(c), socket(io) {}
  WorkerContext& ctx;
  tcp::acceptor socket;
  net::DescriptorReserve reserve;
};

namespace {

asio::awaitable<void> accept_loop(WorkerContext& ctx, tcp::acceptor& acceptor,
                                  net::DescriptorReserve& reserve) {
  for (;;) {
    tcp::endpoint peer;
    auto [ec, socket] = co_await acceptor.async_accept(peer, kNoThrow);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      ctx.metrics.accept_errors.add();
      reserve.log_error(ec, Clock::now());
      // Out of descriptors: turn the waiting connection away at once rather than leave it
      // hanging; either way back off a little instead of spinning on the error.
      if (reserve.shed_one(acceptor.native_handle(), ec)) ctx.metrics.connections_shed.add();
      asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(10));
      co_await pause.async_wait(kNoThrow);
      continue;
    }
    Ip16 ip = to_ip16(peer.address());
    if (peer.address().is_v6() && peer.address().to_v6().is_v4_mapped()) {
      ip = to_ip16(asio::ip::make_address_v4(asio::ip::v4_mapped, peer.address().to_v6()));
    }
    bool trusted = ctx.runtime->options.trusted_proxies.contains(ip);
    ctx.metrics.connections.add();
    ClientConnection conn{net::Stream(std::move(socket)), ip, trusted, false, Clock::now()};
    asio::co_spawn(acceptor.get_executor(), serve(ctx, std::move(conn)), asio::detached);
  }
}

}  // namespace

Server::Server(std::shared_ptr<const Runtime> runtime) : runtime_(std::move(runtime)) {
  std::size_t buffer_size = runtime_->options.http.max_header_bytes;
  for (std::size_t i = 0; i < runtime_->options.workers; ++i) {
    workers_.push_back(std::make_unique<net::Worker>(i, buffer_size));
    contexts_.push_back(std::make_unique<WorkerContext>(*workers_.back(), runtime_));
  }
}

Server::~Server() {
  stop();
}

void Server::open_listeners(std::size_t worker_index) {
  net::Worker& worker = *workers_[worker_index];
  for (const ListenerOptions& listener : runtime_->options.listeners) {
    auto acceptor = std::make_unique<Acceptor>(*contexts_[worker_index], worker.io());
    tcp::acceptor& a = acceptor->socket;
    try {
      a.open(listener.endpoint.protocol());
      a.set_option(tcp::acceptor::reuse_address(true));
      // Accepted connections inherit TCP_NODELAY from the listener (Linux clones the listening
      // socket's options): one setsockopt here instead of one per connection.
      a.set_option(tcp::no_delay(true));
      int one = 1;
      if (setsockopt(a.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
        throw std::system_error(errno, std::generic_category(), "SO_REUSEPORT");
      }
      a.bind(listener.endpoint);
      a.listen(asio::socket_base::max_listen_connections);
    } catch (const std::system_error& e) {
      throw std::system_error(e.code(),
                              "listener " + listener.name + " (" + listener.address + ")");
    }
    acceptors_.push_back(std::move(acceptor));
  }
}

void Server::start() {
  for (std::size_t i = 0; i < workers_.size(); ++i)
    open_listeners(i);
  for (auto& acceptor : acceptors_) {
    asio::co_spawn(acceptor->socket.get_executor(),
                   accept_loop(acceptor->ctx, acceptor->socket, acceptor->reserve), asio::detached);
  }
  std::vector<upstream::Cluster*> clusters;
  for (const auto& c : runtime_->clusters)
    clusters.push_back(c.get());
  upstream::start_health_checks(workers_.front()->io(), clusters);
  for (auto& worker : workers_)
    worker->start();
  for (const ListenerOptions& listener : runtime_->options.listeners) {
    spdlog::info("listening on {} ({}) with {} worker(s)", listener.address, listener.name,
                 workers_.size());
  }
}

std::size_t Server::drain() {
  // Each worker closes its own listeners and idle connections, on its own thread.
  std::vector<std::future<void>> done;
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    auto promise = std::make_shared<std::promise<void>>();
    done.push_back(promise->get_future());
    asio::post(workers_[i]->io(), [this, i, promise] {
      contexts_[i]->draining = true;
      for (auto& acceptor : acceptors_) {
        if (&acceptor->ctx != contexts_[i].get()) continue;
        std::error_code ignored;
        acceptor->socket.close(ignored);
      }
      workers_[i]->deadlines().for_each([](net::Deadline& d) {
        if (d.on_drain != nullptr) d.on_drain(d.context);
      });
      promise->set_value();
    });
  }
  for (auto& f : done)
    f.wait();

  auto give_up = std::chrono::steady_clock::now() + runtime_->options.shutdown_timeout;
  for (;;) {
    std::size_t open = 0;
    for (auto& ctx : contexts_)
      open += ctx->open_sessions.load(std::memory_order_relaxed);
    if (open == 0 || std::chrono::steady_clock::now() >= give_up) return open;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void Server::stop() {
  for (auto& worker : workers_)
    worker->stop();
  for (auto& worker : workers_)
    worker->join();
}

}  // namespace pier::proxy
