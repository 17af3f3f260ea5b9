// A connection's bytes, to a client or to a backend: the one type the proxy reads, writes, waits
// on and shuts down, whatever carries the bytes. Plain TCP today; TLS will be a second transport
// behind the same operations, so nothing above net/ names the socket of a connection that may
// one day be encrypted.
//
// Asio's AsyncReadStream and AsyncWriteStream: asio::async_write and friends take it as they take
// a socket. The operations forward to the transport with no extra frame or allocation.
#pragma once

#include <asio/ip/tcp.hpp>
#include <optional>
#include <system_error>
#include <utility>

#include "net/splice.h"

namespace pier::net {

class Stream {
 public:
  using executor_type = asio::ip::tcp::socket::executor_type;
  enum class Wait { Read, Write };

  explicit Stream(asio::io_context& io) : socket_(io) {}
  explicit Stream(const executor_type& executor) : socket_(executor) {}
  explicit Stream(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {}

  executor_type get_executor() { return socket_.get_executor(); }

  template <class Token>
  auto async_connect(const asio::ip::tcp::endpoint& to, Token&& token) {
    return socket_.async_connect(to, std::forward<Token>(token));
  }
  template <class Buffers, class Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return socket_.async_read_some(buffers, std::forward<Token>(token));
  }
  template <class Buffers, class Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    return socket_.async_write_some(buffers, std::forward<Token>(token));
  }
  // Readiness without moving a byte: the pool's idle watch, parking, splice(2)'s waits.
  template <class Token>
  auto async_wait(Wait what, Token&& token) {
    return socket_.async_wait(
        what == Wait::Read ? asio::ip::tcp::socket::wait_read : asio::ip::tcp::socket::wait_write,
        std::forward<Token>(token));
  }

  // The descriptor splice(2) may move body bytes on: only where the bytes on the wire are the
  // body's own (plain TCP). None for a stream that encrypts.
  std::optional<int> splice_handle() { return socket_.native_handle(); }
  // Bytes have arrived that nobody read (a pooled connection must not be reused then).
  bool has_pending_input() { return net::has_pending_input(socket_.native_handle()); }

  void no_delay() {
    std::error_code ignored;
    socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  }
  // Ends the sending side (FIN) and keeps reading: a lingering close, a finished tunnel.
  void shutdown_send() {
    std::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  }
  void shutdown_both() {
    std::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  }
  // Ends the pending operations (they complete with operation_aborted).
  void cancel() {
    std::error_code ignored;
    socket_.cancel(ignored);
  }
  void close() {
    std::error_code ignored;
    socket_.close(ignored);
  }
  bool is_open() const { return socket_.is_open(); }

 private:
  asio::ip::tcp::socket socket_;
};

}  // namespace pier::net
