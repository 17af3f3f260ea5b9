// The upstream exchange over a real loopback connection, the backend's bytes written by the test.
#include "upstream/exchange.h"

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <string>
#include <vector>

namespace pier::upstream {
namespace {

using asio::ip::tcp;

struct Seen {
  std::vector<HeadOutcome> heads;
  std::vector<int> statuses;
  std::string request;  // what the backend received
  std::string body_start;
};

// Connects an Exchange to a backend that reads the request, then answers with `pieces` (one
// write each), then closes. Reads heads until a final one, or a failure.
Seen run(const std::vector<std::string>& pieces, std::size_t buffer_size = 4096) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  Seen seen;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        tcp::socket backend = co_await acceptor.async_accept(asio::use_awaitable);
        std::string request(18, '\0');
        co_await asio::async_read(backend, asio::buffer(request), asio::use_awaitable);
        seen.request = request;
        for (const std::string& piece : pieces)
          co_await asio::async_write(backend, asio::buffer(piece), asio::use_awaitable);
        backend.shutdown(tcp::socket::shutdown_send);
      },
      asio::detached);
  net::BufferPool pool(buffer_size, 1);
  net::Buffer in(pool);
  in.ensure_block();
  net::Stream stream(io);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        Exchange exchange(stream, in);
        EXPECT_FALSE(co_await exchange.connect(acceptor.local_endpoint()));
        auto [ec, written] = co_await exchange.send("GET / HTTP/1.1\r\n", "\r\n");
        EXPECT_FALSE(ec);
        EXPECT_EQ(written, 18u);
        for (;;) {
          http::ResponseHead head;
          HeadOutcome outcome = co_await exchange.read_head(http::Method::Get, 100, head);
          seen.heads.push_back(outcome);
          if (outcome.end != HeadEnd::Final && outcome.end != HeadEnd::Interim) break;
          seen.statuses.push_back(head.status);
          if (outcome.end == HeadEnd::Final) {
            exchange.skip_head();
            seen.body_start = in.readable();
            break;
          }
          exchange.skip_head();
        }
      },
      asio::detached);
  io.run();
  return seen;
}

TEST(Exchange, InterimHeadsThenTheFinalOneWithTheBodyStartBehindIt) {
  Seen seen = run({"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 2", "00 OK\r\n",
                   "Content-Length: 5\r\n\r\nhel"});
  EXPECT_EQ(seen.request, "GET / HTTP/1.1\r\n\r\n");
  ASSERT_EQ(seen.heads.size(), 2u);
  EXPECT_EQ(seen.heads[0].end, HeadEnd::Interim);
  EXPECT_EQ(seen.heads[1].end, HeadEnd::Final);
  EXPECT_EQ(seen.statuses, (std::vector<int>{103, 200}));
  EXPECT_EQ(seen.body_start, "hel");
}

TEST(Exchange, AStatusLineThatIsNotHttpIsRefusedBeforeTheHeadEnds) {
  Seen seen = run({"SSH-2.0-OpenSSH\r\nmore"});
  ASSERT_EQ(seen.heads.size(), 1u);
  EXPECT_EQ(seen.heads[0].end, HeadEnd::Malformed);
  EXPECT_EQ(seen.heads[0].reason, "malformed status line");
}

TEST(Exchange, AHeadLargerThanTheBufferIsTooLarge) {
  Seen seen = run({"HTTP/1.1 200 OK\r\nX: " + std::string(600, 'a') + "\r\n\r\n"}, 512);
  ASSERT_EQ(seen.heads.size(), 1u);
  EXPECT_EQ(seen.heads[0].end, HeadEnd::TooLarge);
}

TEST(Exchange, AConnectionClosedMidHeadIsClosed) {
  Seen seen = run({"HTTP/1.1 200 OK\r\nContent-"});
  ASSERT_EQ(seen.heads.size(), 1u);
  EXPECT_EQ(seen.heads[0].end, HeadEnd::Closed);
}

}  // namespace
}  // namespace pier::upstream
