// libFuzzer target: a whole client connection. The fuzzed bytes are what a client sends on a real
// TCP connection (then it half-closes); a real Session serves it, as a worker would, and proxies
// to a backend in this process that records every byte it receives. The oracle:
//   - every request the backend receives parses strictly (Pier's own codec, fuzz_request_stream.h);
//   - each one is, in order, a request the client's bytes framed: same method, target, Host, body
//     and trailers (those allowed in trailers); none appears that the client did not send, and
//     none arrives twice (a smuggled or replayed request would);
//   - a backend connection left holding part of a request has been closed by Pier (a pooled
//     connection with a partial request on it would poison the next exchange);
//   - the session ends once the client has gone: no hang, no session left behind.
// A violation aborts, which libFuzzer reports as a crash.
#include <spdlog/spdlog.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "config/loader.h"
#include "http/chunked_reframe.h"
#include "http/fuzz_support.h"
#include "proxy/fuzz_request_stream.h"
#include "proxy/io.h"
#include "proxy/parked_connection.h"
#include "proxy/runtime.h"

namespace {

using namespace pier;
using asio::ip::tcp;
using proxy::fuzz::Frame;
using proxy::fuzz::FramedRequest;
using proxy::fuzz::RequestStream;

// Pier's own limits bound what it forwards; the backend reads with looser ones, so that only the
// grammar (not the fields Pier adds) can make a forwarded request invalid.
constexpr std::size_t kBackendMaxHead = 256 * 1024;
constexpr std::size_t kBackendMaxHeaders = 1000;
constexpr std::string_view kResponse = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n";
constexpr std::string_view kHeadResponse = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n";

struct BackendConnection {
  explicit BackendConnection(tcp::socket s)
      : socket(std::move(s)), stream(kBackendMaxHead, kBackendMaxHead, kBackendMaxHeaders) {}
  tcp::socket socket;
  RequestStream stream;
  bool closed_by_pier = false;
};

struct Harness {
  Harness();

  net::Worker worker{0, 16 * 1024};
  tcp::acceptor backend{worker.io()};
  tcp::acceptor front{worker.io()};  // only to make connected pairs: the session gets one end
  std::unique_ptr<proxy::WorkerContext> ctx;
  // This input's: what the backend received, in arrival order, and its connections.
  std::vector<FramedRequest> received;
  std::vector<std::shared_ptr<BackendConnection>> connections;
};

[[noreturn]] void violation(std::string_view what, std::string_view detail) {
  std::fprintf(stderr, "session fuzz: %.*s: %.*s\n", static_cast<int>(what.size()), what.data(),
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

asio::awaitable<void> serve_backend(Harness& h, std::shared_ptr<BackendConnection> c) {
  char buffer[4096];
  for (;;) {
    auto [ec, n] = co_await c->socket.async_read_some(asio::buffer(buffer), proxy::kNoThrow);
    if (ec) {
      c->closed_by_pier = ec == asio::error::eof || ec == asio::error::connection_reset;
      co_return;
    }
    c->stream.append(std::string_view(buffer, n));
    for (;;) {
      FramedRequest request;
      Frame frame = c->stream.next(request);
      if (frame == Frame::Invalid)
        violation("the backend got an invalid request", c->stream.error());
      if (frame == Frame::Incomplete) break;
      std::string_view answer = request.method == "HEAD" ? kHeadResponse : kResponse;
      h.received.push_back(std::move(request));
      auto [write_error, written] =
          co_await asio::async_write(c->socket, asio::buffer(answer), proxy::kNoThrow);
      if (write_error) co_return;
    }
  }
}

asio::awaitable<void> accept_backend(Harness& h) {
  for (;;) {
    auto [ec, socket] = co_await h.backend.async_accept(proxy::kNoThrow);
    if (ec) co_return;
    auto c = std::make_shared<BackendConnection>(std::move(socket));
    h.connections.push_back(c);
    asio::co_spawn(h.worker.io(), serve_backend(h, c), asio::detached);
  }
}

std::string config_text(unsigned short backend_port) {
  return "workers: 1\n"
         "listeners:\n"
         "  - name: \"public\"\n"
         "    address: \"127.0.0.1:1\"\n"  // never opened: the fuzzer hands sockets to sessions
         "upstreams:\n"
         "  app:\n"
         "    backends:\n"
         "      - address: \"127.0.0.1:" +
         std::to_string(backend_port) +
         "\"\n"
         "routes:\n"
         "  - match:\n"
         "      path_prefix: \"/\"\n"
         "    upstream: \"app\"\n";
}

Harness::Harness() {
  spdlog::set_level(spdlog::level::off);
  tcp::endpoint loopback(asio::ip::make_address_v4("127.0.0.1"), 0);
  for (tcp::acceptor* a : {&backend, &front}) {
    a->open(loopback.protocol());
    a->bind(loopback);
    a->listen();
  }
  auto loaded = config::load_text(config_text(backend.local_endpoint().port()), "fuzz.yaml");
  if (!loaded.options) violation("config", loaded.errors.front());
  auto runtime = std::make_shared<const proxy::Runtime>(std::move(*loaded.options));
  ctx = std::make_unique<proxy::WorkerContext>(worker, runtime);
  asio::co_spawn(worker.io(), accept_backend(*this), asio::detached);
}

// The client: everything at once, then a half-close, then every byte Pier answers until it closes.
asio::awaitable<void> run_client(tcp::socket& client, std::string_view input, bool& done) {
  auto [ec, n] = co_await asio::async_write(client, asio::buffer(input), proxy::kNoThrow);
  std::error_code ignored;
  client.shutdown(tcp::socket::shutdown_send, ignored);
  char buffer[4096];
  while (!ec) {
    std::tie(ec, n) = co_await client.async_read_some(asio::buffer(buffer), proxy::kNoThrow);
  }
  done = true;
}

// Runs handlers until none is ready: what the last bytes set off has happened.
void settle(asio::io_context& io) {
  for (int quiet = 0; quiet < 3;) {
    io.restart();
    quiet = io.poll() == 0 ? quiet + 1 : 0;
  }
}

std::vector<FramedRequest> framed_by(std::string_view input) {
  const proxy::HttpOptions http{};
  RequestStream stream(http.max_request_line, http.max_header_bytes, http.max_headers);
  stream.append(input);
  std::vector<FramedRequest> requests;
  FramedRequest request;
  while (stream.next(request) == Frame::Complete) {
    bool last = !request.keep_alive;
    requests.push_back(std::move(request));
    if (last) break;  // the session closes after it
  }
  return requests;
}

std::vector<std::pair<std::string, std::string>> forwardable(const FramedRequest& r) {
  std::vector<std::pair<std::string, std::string>> kept;
  for (const auto& field : r.trailers) {
    if (!http::forbidden_in_trailer(field.first)) kept.push_back(field);
  }
  return kept;
}

bool same_request(const FramedRequest& sent, const FramedRequest& got) {
  return sent.method == got.method && sent.target == got.target && sent.body == got.body &&
         (sent.host.empty() || sent.host == got.host);
}

// Each request the backend got is one the client framed, in order, each at most once.
void check_forwarded(std::string_view input, const std::vector<FramedRequest>& received) {
  std::vector<FramedRequest> sent = framed_by(input);
  std::size_t next = 0;
  for (const FramedRequest& got : received) {
    while (next < sent.size() && !same_request(sent[next], got))
      ++next;
    if (next == sent.size())
      violation("the backend got a request the client did not frame", got.target);
    if (forwardable(sent[next]) != got.trailers) violation("trailers changed", got.target);
    ++next;
  }
}

// A loopback connection: `client` one end, the accepted socket (the session's) the other. The
// connect does not block: libFuzzer's timer signals interrupt system calls, and a blocking connect
// interrupted still completes in the kernel, which would leave a connection no one serves in the
// accept queue.
tcp::socket connected_pair(tcp::acceptor& front, tcp::socket& client) {
  std::error_code ec;
  client.open(tcp::v4());
  client.non_blocking(true);
  client.connect(front.local_endpoint(), ec);
  if (ec && ec != asio::error::in_progress && ec != asio::error::would_block) {
    violation("connect", ec.message());
  }
  // Closed with a reset, not a FIN: no TIME_WAIT piles up over millions of inputs.
  client.set_option(asio::socket_base::linger(true, 0));
  for (;;) {
    tcp::socket accepted = front.accept(ec);
    if (!ec) return accepted;
    if (ec != asio::error::interrupted) violation("accept", ec.message());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Harness h;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  asio::io_context& io = h.worker.io();
  h.received.clear();

  tcp::socket client(io);
  tcp::socket accepted = connected_pair(h.front, client);
  proxy::ClientConnection conn{net::Stream(std::move(accepted)),
                               proxy::to_ip16(client.local_endpoint().address()), false, false,
                               Clock::now()};
  asio::co_spawn(io, proxy::serve(*h.ctx, std::move(conn)), asio::detached);
  bool done = false;
  asio::co_spawn(io, run_client(client, input, done), asio::detached);
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done) {
    if (std::chrono::steady_clock::now() > give_up)
      violation("hang", "the session outlived its client by 5 s");
    io.restart();
    io.run_one_for(std::chrono::milliseconds(50));
  }
  settle(io);

  FUZZ_CHECK(h.ctx->open_sessions.load() == 0);
  check_forwarded(input, h.received);
  for (const auto& c : h.connections) {
    if (c->stream.pending() > 0 && !c->closed_by_pier) {
      violation("a backend connection holding part of a request was left open", "");
    }
  }
  // The next input starts with no backend connection: nothing of this one can reach it.
  for (const auto& c : h.connections) {
    std::error_code ignored;
    c->socket.close(ignored);
  }
  h.connections.clear();
  settle(io);
  return 0;
}
