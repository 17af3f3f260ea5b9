#include "upstream/health_checker.h"

#include <spdlog/spdlog.h>

#include <array>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <string>

#include "http/head_writer.h"
#include "net/buffer.h"
#include "net/stream.h"
#include "upstream/exchange.h"

namespace pier::upstream {
namespace {

constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t kHeadBufferSize = 4096;  // a health check's response head must fit

struct ProbeResult {
  bool passed;
  std::string why;
};

// One check: connect, send GET, read the final response head. A timer closes the connection
// when it is late.
asio::awaitable<ProbeResult> probe(Backend& backend, const HealthOptions& options,
                                   net::BufferPool& buffers) {
  auto executor = co_await asio::this_coro::executor;
  net::Stream stream(executor);
  net::Buffer in(buffers);
  in.ensure_block();
  asio::steady_timer timer(executor);
  bool timed_out = false;
  timer.expires_after(options.timeout);
  timer.async_wait([&](const std::error_code& ec) {
    if (ec) return;
    timed_out = true;
    stream.close();
  });
  auto finish = [&](bool passed, std::string why) {
    timer.cancel();
    return ProbeResult{passed, timed_out ? "timed out" : std::move(why)};
  };

  Exchange exchange(stream, in);
  if (std::error_code ec = co_await exchange.connect(backend.endpoint())) {
    co_return finish(false, "connect: " + ec.message());
  }
  std::string request;
  http::HeadWriter(request)
      .request_line("GET", options.path)
      .field("Host", backend.name())
      .field("User-Agent", "pier-health-check")
      .connection(http::ConnectionField::Close)
      .end();
  if (auto [ec, written] = co_await exchange.send(request, {}); ec) {
    co_return finish(false, "write: " + ec.message());
  }
  http::ResponseHead head;
  for (;;) {
    HeadOutcome outcome = co_await exchange.read_head(http::Method::Get, 100, head);
    switch (outcome.end) {
      case HeadEnd::Final: {
        bool passed = head.status >= options.expect_min && head.status <= options.expect_max;
        co_return finish(passed, "status " + std::to_string(head.status));
      }
      case HeadEnd::Interim:
        exchange.skip_head();
        continue;
      case HeadEnd::Malformed:
      case HeadEnd::TooLarge:
        co_return finish(false, std::string(outcome.reason));
      case HeadEnd::Closed:
        co_return finish(false, "read: " + exchange.read_error().message());
    }
  }
}

asio::awaitable<void> check_forever(Backend& backend, HealthOptions options) {
  HealthCounter counter(options.rise, options.fall);
  net::BufferPool buffers(kHeadBufferSize, 1);  // one block, reused by every probe
  asio::steady_timer sleep(co_await asio::this_coro::executor);
  for (;;) {
    ProbeResult result = co_await probe(backend, options, buffers);
    if (counter.record(result.passed)) {
      backend.set_healthy(counter.healthy());
      if (counter.healthy()) {
        spdlog::info("upstream {}: backend {} is healthy again ({})", backend.cluster().name(),
                     backend.name(), result.why);
      } else {
        spdlog::warn("upstream {}: backend {} is unhealthy ({})", backend.cluster().name(),
                     backend.name(), result.why);
      }
    }
    sleep.expires_after(options.interval);
    auto [ec] = co_await sleep.async_wait(kNoThrow);
    if (ec) co_return;
  }
}

}  // namespace

bool HealthCounter::record(bool passed) {
  if (passed == healthy_) {
    streak_ = 0;
    return false;
  }
  if (++streak_ < (healthy_ ? fall_ : rise_)) return false;
  healthy_ = !healthy_;
  streak_ = 0;
  return true;
}

void start_health_checks(asio::io_context& io, std::vector<Cluster*> clusters) {
  for (Cluster* cluster : clusters) {
    if (!cluster->options().health) continue;
    for (auto& backend : cluster->backends()) {
      asio::co_spawn(io, check_forever(*backend, *cluster->options().health), asio::detached);
    }
  }
}

}  // namespace pier::upstream
