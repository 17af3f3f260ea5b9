#include "proxy/background_refresh.h"

#include <spdlog/spdlog.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include "cache/policy.h"
#include "http/body_framer.h"
#include "http/request_parser.h"
#include "proxy/cache_storage.h"
#include "proxy/io.h"
#include "proxy/session_cache.h"
#include "upstream/exchange.h"

namespace pier::proxy {
namespace {

// The fetch itself: one connection, one request, the whole response read into memory (bounded
// by max_object). Returns the response's entry (or the 304-refreshed one), or null.
class Refresh {
 public:
  Refresh(RefreshJob& job, upstream::ConnectionPool& pool, net::BufferPool& buffers)
      : job_(job), pool_(pool), in_(buffers) {}

  asio::awaitable<cache::EntryPtr> run() {
    if (!co_await connect()) co_return nullptr;
    upstream::Exchange exchange(conn_->stream, in_);
    auto [ec, written] = co_await exchange.send(job_.upstream_head, {});
    if (ec) co_return nullptr;
    if (!co_await read_final_head(exchange)) co_return nullptr;
    std::size_t head_size = exchange.head_size();
    http::RequestHead request;
    if (http::parse_request_head(job_.client_head, {job_.max_headers}, request)) co_return nullptr;
    if (response_.status == 304) co_return refreshed(head_size);
    if (!cache::may_store(request, response_, job_.policy).store) co_return nullptr;
    auto entry = cache::entry_from_response(request, response_, request_time_);
    if (!entry) co_return nullptr;
    exchange.skip_head();
    if (!co_await read_body(entry->body)) co_return nullptr;
    entry->response_time = wall_seconds();
    cache::describe(*entry, job_.policy);
    done_cleanly_ = response_.keep_alive;
    co_return cache::EntryPtr(std::move(entry));
  }

  // Gives the connection back (kept when the exchange ended cleanly) and stops the timer.
  void finish() {
    *armed_ = false;  // a expiry already queued must not touch the connection any more
    timer_.reset();
    upstream::Reuse reuse = done_cleanly_ ? upstream::Reuse::Yes : upstream::Reuse::No;
    if (conn_) pool_.release(std::move(conn_), reuse, Clock::now());
  }

 private:
  asio::awaitable<bool> connect() {
    const auto& options = pool_.backend().cluster().options();
    conn_ = pool_.take_idle(Clock::now());
    bool fresh = !conn_;
    if (fresh) conn_ = pool_.reserve_new();
    if (!conn_) co_return false;
    in_.ensure_block();
    // One limit for the whole refresh: nobody waits for it, it must simply not linger.
    timer_.emplace(conn_->stream.get_executor());
    timer_->expires_after(options.timeouts.connect + options.timeouts.response_header +
                          options.timeouts.idle);
    timer_->async_wait([stream = &conn_->stream, armed = armed_](const std::error_code& ec) {
      if (!ec && *armed) stream->cancel();
    });
    request_time_ = wall_seconds();
    if (!fresh) co_return true;
    std::error_code ec =
        co_await upstream::Exchange(conn_->stream, in_).connect(pool_.backend().endpoint());
    co_return !ec;
  }

  // The final response head (interim ones such as 103 Early Hints skipped).
  asio::awaitable<bool> read_final_head(upstream::Exchange& exchange) {
    for (;;) {
      upstream::HeadOutcome head =
          co_await exchange.read_head(http::Method::Get, job_.max_headers, response_);
      if (head.end == upstream::HeadEnd::Final) co_return response_.status != 101;
      if (head.end != upstream::HeadEnd::Interim) co_return false;
      exchange.skip_head();
    }
  }

  // The whole body into `body`, decoded; false when it is not stored (too large, malformed,
  // truncated, or followed by bytes of nothing the refresh asked for).
  asio::awaitable<bool> read_body(std::string& body) {
    const std::size_t limit = job_.cache->options.max_object;
    http::BodyFramer framer;
    framer.start(response_, http::BodyFramer::ChunkedOutput::DataOnly);
    if (framer.remaining() > limit) co_return false;
    for (;;) {
      http::BodyFramer::Taken taken = framer.take(in_.readable(), body);
      body.append(taken.data);
      in_.consume(taken.used);
      if (framer.failed() || body.size() > limit) co_return false;
      if (framer.done()) co_return in_.empty();
      if (in_.write_space() == 0) in_.compact();
      auto [ec, n] = co_await conn_->stream.async_read_some(
          asio::buffer(in_.write_ptr(), in_.write_space()), kNoThrow);
      // At the end of a close-delimited body the connection is not reused (keep_alive is off).
      if (ec) co_return ec == asio::error::eof&& framer.end_of_input();
      in_.commit(n);
    }
  }

  cache::EntryPtr refreshed(std::size_t head_size) {
    auto updated = std::make_shared<cache::Entry>(*job_.stale);
    cache::merge_not_modified(*updated, response_.headers);
    updated->request_time = request_time_;
    updated->response_time = wall_seconds();
    cache::describe(*updated, job_.policy);
    done_cleanly_ = response_.keep_alive && in_.size() == head_size;
    return updated;
  }

  RefreshJob& job_;
  upstream::ConnectionPool& pool_;
  upstream::UpstreamConnectionPtr conn_;
  std::optional<asio::steady_timer> timer_;
  std::shared_ptr<bool> armed_ = std::make_shared<bool>(true);
  net::Buffer in_;  // the response as it arrives
  http::ResponseHead response_;
  std::int64_t request_time_ = 0;
  bool done_cleanly_ = false;
};

// Ends the key's lead however the refresh ends (an exception included): a lead never released
// would make every later miss on the key wait lock_timeout.
struct LeadGuard {
  SharedCache& cache;
  std::string key;
  ~LeadGuard() { cache.coalescer.finish(key); }
};

asio::awaitable<void> refresh(RefreshJob job, net::BufferPool& buffers) {
  LeadGuard lead{*job.cache, job.key};
  upstream::Backend* backend = job.cluster->pick({});
  cache::EntryPtr entry;
  if (backend != nullptr) {
    backend->begin_request();
    Refresh fetch(job, *job.cluster->pools[backend->index()], buffers);
    struct Done {  // the connection back to its pool and the in-flight count down, always
      Refresh& fetch;
      upstream::Backend& backend;
      ~Done() {
        fetch.finish();
        backend.end_request();
      }
    } done{fetch, *backend};
    entry = co_await fetch.run();
  }
  if (entry) {
    co_await cache_put(*job.cache, job.redis, job.key, entry);
  } else {
    spdlog::debug("cache: background refresh of {} failed; the stale entry stays", job.key);
  }
}

}  // namespace

void start_refresh(WorkerContext& ctx, RefreshJob job) {
  if (!job.cache->coalescer.try_lead(job.key)) return;  // already being fetched
  asio::co_spawn(ctx.worker.io(), refresh(std::move(job), ctx.worker.body_buffers()),
                 asio::detached);
}

}  // namespace pier::proxy
