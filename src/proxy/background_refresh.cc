#include "proxy/background_refresh.h"

#include <spdlog/spdlog.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include "cache/policy.h"
#include "http/body_framer.h"
#include "http/head_scanner.h"
#include "http/request_parser.h"
#include "http/response_parser.h"
#include "proxy/cache_storage.h"
#include "proxy/io.h"
#include "proxy/session_cache.h"

namespace pier::proxy {
namespace {

constexpr std::size_t kMaxHead = 64 * 1024;

// The fetch itself: one connection, one request, the whole response read into memory (bounded
// by max_object). Returns the response's entry (or the 304-refreshed one), or null.
class Refresh {
 public:
  Refresh(RefreshJob& job, upstream::ConnectionPool& pool) : job_(job), pool_(pool) {}

  asio::awaitable<cache::EntryPtr> run() {
    if (!co_await connect()) co_return nullptr;
    auto [wec, wn] =
        co_await asio::async_write(conn_->stream, asio::buffer(job_.upstream_head), kNoThrow);
    if (wec || !co_await read_head()) co_return nullptr;
    std::string_view head = std::string_view(buf_).substr(0, scanner_.head_size());
    http::RequestHead request;
    if (http::parse_request_head(job_.client_head, {job_.max_headers}, request)) co_return nullptr;
    if (http::parse_response_head(head, http::Method::Get, job_.max_headers, response_)) {
      co_return nullptr;
    }
    while (response_.status >= 100 && response_.status < 200 && response_.status != 101) {
      buf_.erase(0, head.size());  // an interim response (103 Early Hints): the next head
      scanner_.reset();
      if (!co_await read_head()) co_return nullptr;
      head = std::string_view(buf_).substr(0, scanner_.head_size());
      if (http::parse_response_head(head, http::Method::Get, job_.max_headers, response_)) {
        co_return nullptr;
      }
    }
    if (response_.status < 200) co_return nullptr;
    if (response_.status == 304) co_return refreshed(head.size());
    if (!cache::may_store(request, response_, job_.policy).store) co_return nullptr;
    auto entry = cache::entry_from_response(request, response_, request_time_);
    if (!entry || !co_await read_body(head.size(), entry->body)) co_return nullptr;
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
    // One limit for the whole refresh: nobody waits for it, it must simply not linger.
    timer_.emplace(conn_->stream.get_executor());
    timer_->expires_after(options.timeouts.connect + options.timeouts.response_header +
                          options.timeouts.idle);
    timer_->async_wait([stream = &conn_->stream, armed = armed_](const std::error_code& ec) {
      if (!ec && *armed) stream->cancel();
    });
    request_time_ = wall_seconds();
    if (!fresh) co_return true;
    auto [ec] = co_await conn_->stream.async_connect(pool_.backend().endpoint(), kNoThrow);
    co_return !ec;
  }

  asio::awaitable<bool> read_more() {
    char chunk[16384];
    auto [ec, n] = co_await conn_->stream.async_read_some(asio::buffer(chunk), kNoThrow);
    if (ec) co_return false;
    buf_.append(chunk, n);
    co_return true;
  }

  asio::awaitable<bool> read_head() {
    for (;;) {
      http::ScanStatus status = scanner_.scan(buf_);
      if (status == http::ScanStatus::Complete) co_return true;
      if (status != http::ScanStatus::Incomplete || !co_await read_more()) co_return false;
    }
  }

  // The whole body into `body`, decoded; false when it is not stored (too large, malformed,
  // truncated, or followed by bytes of nothing the refresh asked for).
  asio::awaitable<bool> read_body(std::size_t head_size, std::string& body) {
    const std::size_t limit = job_.cache->options.max_object;
    http::BodyFramer framer;
    framer.start(response_, http::BodyFramer::ChunkedOutput::DataOnly);
    if (framer.remaining() > limit) co_return false;
    std::size_t pos = head_size;
    for (;;) {
      http::BodyFramer::Taken taken = framer.take(std::string_view(buf_).substr(pos), body);
      body.append(taken.data);
      pos += taken.used;
      if (framer.failed() || body.size() > limit) co_return false;
      if (framer.done()) co_return pos == buf_.size();
      // At the end of a close-delimited body the connection is not reused (keep_alive is off).
      if (!co_await read_more()) co_return framer.end_of_input();
    }
  }

  cache::EntryPtr refreshed(std::size_t head_size) {
    auto updated = std::make_shared<cache::Entry>(*job_.stale);
    cache::merge_not_modified(*updated, response_.headers);
    updated->request_time = request_time_;
    updated->response_time = wall_seconds();
    cache::describe(*updated, job_.policy);
    done_cleanly_ = response_.keep_alive && buf_.size() == head_size;
    return updated;
  }

  RefreshJob& job_;
  upstream::ConnectionPool& pool_;
  upstream::UpstreamConnectionPtr conn_;
  std::optional<asio::steady_timer> timer_;
  std::shared_ptr<bool> armed_ = std::make_shared<bool>(true);
  std::string buf_;
  http::HeadScanner scanner_{kMaxHead, kMaxHead};
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

asio::awaitable<void> refresh(RefreshJob job) {
  LeadGuard lead{*job.cache, job.key};
  upstream::Backend* backend = job.cluster->pick({});
  cache::EntryPtr entry;
  if (backend != nullptr) {
    backend->begin_request();
    Refresh fetch(job, *job.cluster->pools[backend->index()]);
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
  asio::co_spawn(ctx.worker.io(), refresh(std::move(job)), asio::detached);
}

}  // namespace pier::proxy
