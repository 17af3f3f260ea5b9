// The admin listener (default 127.0.0.1:9901), on a thread of its own so that nothing it does
// delays a worker: /metrics (Prometheus), the JSON API, /healthz, /readyz, cache purge, and the
// web dashboard served from the binary.
//
// Access: when bound to loopback without a token, GETs are open and POSTs refused (401); with
// admin.token_file, POSTs need "Authorization: Bearer <token>", and so does everything else when
// the address is not loopback (config refuses a non-loopback address without a token).
#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <memory>
#include <string>
#include <thread>

#include "admin/stats.h"
#include "http/message.h"
#include "net/stream.h"
#include "proxy/options.h"
#include "proxy/server.h"

namespace pier::admin {

class AdminServer {
 public:
  AdminServer(proxy::Server& server, const proxy::AdminOptions& options);
  ~AdminServer();

  // Binds and listens (throws std::system_error naming the address). Done before the proxy's
  // listeners open, so that once Pier accepts traffic its admin API accepts too (connections
  // wait in the backlog until start()).
  void listen();
  // Starts the admin thread.
  void start();
  void stop();

 private:
  struct Reply {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::string extra;  // extra header lines
  };

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(net::Stream stream);
  // False when the client is gone.
  static asio::awaitable<bool> write_reply(net::Stream& stream, const Reply& reply, bool head_only,
                                           bool close);
  asio::awaitable<void> sample_loop();
  Reply handle(const http::RequestHead& request, std::string_view body);
  Reply purge(std::string_view query);
  bool authorized(const http::RequestHead& request) const;

  proxy::Server& server_;
  const proxy::AdminOptions& options_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  Sampler sampler_;
  std::thread thread_;
};

}  // namespace pier::admin
