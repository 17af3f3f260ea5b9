// One HTTP/1.1 request and its response on a backend connection: what every HTTP client of Pier
// shares (the proxy path, the cache's background refresh, the active health checks). Connect a
// fresh connection, send the head with the part of the body already whole, read response heads
// (interim ones included) into the caller's buffer; the body that follows is read through
// http::BodyFramer from the same buffer.
//
// Timeouts stay with the caller, which knows what a deadline means for it: it cancels the stream
// when one passes, and the operation in progress ends as a failure.
#pragma once

#include <array>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>
#include <cstddef>
#include <optional>
#include <string_view>
#include <system_error>

#include "http/head_scanner.h"
#include "http/message.h"
#include "net/buffer.h"
#include "net/io.h"
#include "net/stream.h"

namespace pier::upstream {

// How reading a response head ended.
enum class HeadEnd {
  Final,      // a final response (>= 200, or 101): its head is parsed
  Interim,    // a 1xx other than 101: parsed; skip_head() and read the next
  Malformed,  // not HTTP (HeadOutcome::reason says why)
  TooLarge,   // the head does not fit the buffer
  Closed,     // the connection ended or failed before the head was whole
};
struct HeadOutcome {
  HeadEnd end;
  std::string_view reason;  // Malformed, TooLarge: what is wrong
};

class Exchange {
 public:
  // `in` receives the response; it must hold a block (net::Buffer::ensure_block).
  Exchange(net::Stream& stream, net::Buffer& in)
      : stream_(stream), in_(in), scanner_(in.capacity(), in.capacity()) {}

  // Opens a fresh connection (with TCP_NODELAY: heads and small bodies go out at once).
  asio::awaitable<std::error_code> connect(const asio::ip::tcp::endpoint& backend);

  // The head and `body` (the part of it already whole, maybe none) in one write: co_await gives
  // (error, bytes written); once bytes were written, the request may have reached the backend.
  // The write itself, with no coroutine frame of its own (every proxied request passes here).
  auto send(std::string_view head, std::string_view body) {
    std::array<asio::const_buffer, 2> buffers{asio::buffer(head), asio::buffer(body)};
    return asio::async_write(stream_, buffers, net::kNoThrow);
  }

  // Reads until the buffer holds a whole response head and parses it into `out` (its views point
  // into the buffer). Bytes behind the head stay in the buffer: the body's start.
  asio::awaitable<HeadOutcome> read_head(http::Method method, std::size_t max_headers,
                                         http::ResponseHead& out);

  // read_head() in steps, for a caller that must not pay for a coroutine frame of the exchange's
  // own on every request (the proxy path): scan(); while it says nullopt, co_await read_some()
  // and pass its result to received(), which is false when the connection ended (Closed).
  std::optional<HeadOutcome> scan(http::Method method, std::size_t max_headers,
                                  http::ResponseHead& out);
  auto read_some() {
    return stream_.async_read_some(asio::buffer(in_.write_ptr(), in_.write_space()), net::kNoThrow);
  }
  bool received(std::error_code ec, std::size_t n) {
    if (ec) {
      read_error_ = ec;
      return false;
    }
    got_bytes_ = true;
    in_.commit(n);
    return true;
  }
  // The bytes of the head just read, then consumed from the buffer (before the next head, or
  // the body).
  std::size_t head_size() const { return scanner_.head_size(); }
  void skip_head();
  // Whether any byte of a response arrived (a reused connection that closes before the first
  // byte is one the backend had already closed).
  bool got_bytes() const { return got_bytes_; }
  // The error that ended the last read (HeadEnd::Closed).
  std::error_code read_error() const { return read_error_; }

 private:
  std::optional<HeadOutcome> scan_head(http::Method method, std::size_t max_headers,
                                       http::ResponseHead& out);

  net::Stream& stream_;
  net::Buffer& in_;
  http::HeadScanner scanner_;
  bool got_bytes_ = false;
  std::error_code read_error_;
};

}  // namespace pier::upstream
