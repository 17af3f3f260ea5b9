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

#include "http/head_scanner.h"
#include "http/head_writer.h"
#include "http/response_parser.h"
#include "net/stream.h"

namespace pier::upstream {
namespace {

constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

struct ProbeResult {
  bool passed;
  std::string why;
};

// One check: connect, send GET, read the status line. A timer closes the socket when it is late.
asio::awaitable<ProbeResult> probe(Backend& backend, const HealthOptions& options) {
  auto executor = co_await asio::this_coro::executor;
  net::Stream stream(executor);
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

  auto [connect_ec] = co_await stream.async_connect(backend.endpoint(), kNoThrow);
  if (connect_ec) co_return finish(false, "connect: " + connect_ec.message());
  std::string request;
  http::HeadWriter(request)
      .request_line("GET", options.path)
      .field("Host", backend.name())
      .field("User-Agent", "pier-health-check")
      .connection(http::ConnectionField::Close)
      .end();
  auto [write_ec, written] = co_await asio::async_write(stream, asio::buffer(request), kNoThrow);
  if (write_ec) co_return finish(false, "write: " + write_ec.message());

  std::array<char, 4096> buf;
  std::size_t size = 0;
  http::HeadScanner scanner(buf.size(), buf.size());
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(
        asio::buffer(buf.data() + size, buf.size() - size), kNoThrow);
    if (ec) co_return finish(false, "read: " + ec.message());
    size += n;
    auto status = scanner.scan({buf.data(), size});
    if (status == http::ScanStatus::Incomplete) continue;
    if (status != http::ScanStatus::Complete) co_return finish(false, "malformed response");
    http::ResponseHead head;
    auto error =
        http::parse_response_head({buf.data(), scanner.head_size()}, http::Method::Get, 100, head);
    if (error) co_return finish(false, std::string(error.reason));
    bool passed = head.status >= options.expect_min && head.status <= options.expect_max;
    co_return finish(passed, "status " + std::to_string(head.status));
  }
}

asio::awaitable<void> check_forever(Backend& backend, HealthOptions options) {
  HealthCounter counter(options.rise, options.fall);
  asio::steady_timer sleep(co_await asio::this_coro::executor);
  for (;;) {
    ProbeResult result = co_await probe(backend, options);
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
