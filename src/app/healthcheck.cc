#include "app/healthcheck.h"

#include <array>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>
#include <iostream>
#include <string>
#include <string_view>

#include "http/head_writer.h"

namespace pier::app {
namespace {

asio::ip::tcp::endpoint reachable(const asio::ip::tcp::endpoint& bound) {
  if (!bound.address().is_unspecified()) return bound;
  if (bound.address().is_v6()) return {asio::ip::address_v6::loopback(), bound.port()};
  return {asio::ip::address_v4::loopback(), bound.port()};
}

std::string healthz_request() {
  std::string request;
  http::HeadWriter(request)
      .request_line("GET", "/healthz")
      .field("Host", "pier")
      .connection(http::ConnectionField::Close)
      .end();
  return request;
}

// One request on a fresh connection; the reply is read until the server closes it (the request
// says Connection: close), which is how the status line is known to be complete.
struct Probe {
  asio::io_context io;
  asio::ip::tcp::socket socket{io};
  std::string request = healthz_request();
  std::string reply;
  std::array<char, 512> chunk{};
  std::string error;

  void start(const asio::ip::tcp::endpoint& target) {
    socket.async_connect(target, [this](std::error_code ec) {
      if (ec) return fail("connect", ec);
      asio::async_write(socket, asio::buffer(request), [this](std::error_code ec, std::size_t) {
        if (ec) return fail("write", ec);
        read_some();
      });
    });
  }

  void read_some() {
    socket.async_read_some(asio::buffer(chunk), [this](std::error_code ec, std::size_t n) {
      reply.append(chunk.data(), n);
      if (ec == asio::error::eof) return;
      if (ec) return fail("read", ec);
      if (reply.size() < 64 * 1024) read_some();
    });
  }

  void fail(const char* step, std::error_code ec) {
    error = std::string(step) + ": " + ec.message();
  }
};

}  // namespace

int healthcheck(const proxy::AdminOptions& admin, std::chrono::milliseconds timeout) {
  if (!admin.enabled) {
    std::cerr << "healthcheck: the admin listener is disabled in the config\n";
    return 1;
  }
  asio::ip::tcp::endpoint target = reachable(admin.endpoint);
  Probe probe;
  probe.start(target);
  probe.io.run_for(timeout);
  if (!probe.io.stopped()) {
    std::cerr << "healthcheck: no answer from " << target << " within " << timeout.count()
              << " ms\n";
    return 1;
  }
  if (!probe.error.empty()) {
    std::cerr << "healthcheck: " << target << ": " << probe.error << "\n";
    return 1;
  }
  std::string_view status_line = std::string_view(probe.reply).substr(0, probe.reply.find('\r'));
  if (!status_line.starts_with("HTTP/1.1 200 ")) {
    std::cerr << "healthcheck: " << target << " answered \"" << status_line << "\"\n";
    return 1;
  }
  return 0;
}

}  // namespace pier::app
