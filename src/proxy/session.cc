#include "proxy/session.h"

#include <spdlog/spdlog.h>

#include <array>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include "http/request_parser.h"
#include "http/status.h"
#include "net/descriptor_reserve.h"
#include "proxy/io.h"
#include "upstream/exchange.h"

namespace pier::proxy {

using asio::ip::tcp;

Session::Session(WorkerContext& ctx, ClientConnection conn)
    : ctx_(ctx),
      runtime_(*ctx.runtime),
      client_conn_(std::move(conn)),
      client_(client_conn_.stream),
      scratch_(ctx.scratch.acquire()),
      in_(ctx.worker.buffers()),
      up_(ctx.worker.body_buffers()),
      request_scanner_(runtime_.options.http.max_request_line,
                       runtime_.options.http.max_header_bytes),
      request_(scratch_->request),
      response_(scratch_->response),
      upstream_head_(scratch_->upstream_head),
      out_(scratch_->out),
      body_out_(scratch_->body_out),
      cache_(scratch_->cache),
      response_extras_(scratch_->response_extras),
      request_fields_(scratch_->request_fields),
      rate_key_(scratch_->rate_key),
      log_line_(scratch_->log_line),
      log_copy_(scratch_->log_copy) {
  format_ip(client_conn_.peer, peer_text_, sizeof peer_text_);
  deadline_.on_expire = &Session::on_deadline;
  deadline_.on_drain = &Session::on_drain;
  deadline_.on_soft = &Session::on_cool;
  deadline_.context = this;
  ctx_.worker.deadlines().add(deadline_);
  ctx_.open_sessions.fetch_add(1, std::memory_order_relaxed);
}

Session::~Session() {
  cache_.end();  // a lead still held is released before the scratch goes back to the pool
  ctx_.worker.deadlines().remove(deadline_);
  ctx_.open_sessions.fetch_sub(1, std::memory_order_relaxed);
  ctx_.scratch.release(std::move(scratch_));
}

// The deadline sweeper calls this on the worker's thread: cancel whatever I/O is pending, and let
// the coroutine, which sees timed_out_, answer with the right status.
void Session::on_deadline(void* self) {
  auto* s = static_cast<Session*>(self);
  s->timed_out_ = true;
  s->total_timed_out_ = Clock::now() >= s->total_deadline_;
  static constexpr const char* kPhaseNames[] = {"idle", "read_request_head", "connect",
                                                "upstream_response", "body"};
  spdlog::debug("client {}: {} timeout in phase {}", s->peer_text_,
                s->total_timed_out_ ? "total" : "phase", kPhaseNames[static_cast<int>(s->phase_)]);
  s->client_.cancel();
  if (s->conn_) s->conn_->stream.cancel();
}

void Session::on_drain(void* self) {
  auto* s = static_cast<Session*>(self);
  if (!s->idle_) return;  // a request in progress finishes first, then the session closes
  s->client_.cancel();
}

// Idle for a whole tick: stop holding a buffer and frames for this client (see
// parked_connection.h).
void Session::on_cool(void* self) {
  auto* s = static_cast<Session*>(self);
  if (!s->idle_) return;
  s->cooling_ = true;
  s->client_.cancel();
}

void Session::arm(Phase phase, Duration timeout) {
  phase_ = phase;
  timed_out_ = false;
  TimePoint at = timeout > Duration::zero() ? Clock::now() + timeout : TimePoint::max();
  deadline_.arm(std::min(at, total_deadline_));
}

asio::awaitable<Session::Ending> Session::run() {
  Ending ending = Ending::Close;
  for (;;) {
    Wait wait = co_await wait_for_request();
    if (wait == Wait::Park) {
      ending = Ending::Park;
      break;
    }
    if (wait == Wait::Close || !co_await read_request_head()) break;
    client_conn_.served_any = true;
    Next next = co_await handle_request();
    if (next == Next::Close || ctx_.draining) break;
  }
  disarm();
  if (ending == Ending::Close) {
    client_.shutdown_send();
    if (linger_) co_await linger();
    client_.close();
  }
  co_return ending;
}

// After an error that closes the connection the client may still be sending (the rest of a
// long head, a body): closing with unread bytes would send a reset, which can destroy the error
// response before the client reads it. So, like nginx's lingering close, read and discard until
// the client closes its side, for at most kLingerTime and kLingerBytes.
asio::awaitable<void> Session::linger() {
  static constexpr Duration kLingerTime = std::chrono::seconds(2);
  static constexpr std::size_t kLingerBytes = 1 << 20;
  in_.ensure_block();
  arm(Phase::Body, kLingerTime);
  for (std::size_t discarded = 0; discarded < kLingerBytes && !timed_out_;) {
    in_.clear();
    auto [ec, n] = co_await client_.async_read_some(
        asio::buffer(in_.write_ptr(), in_.write_space()), kNoThrow);
    if (ec) break;  // the client closed (EOF) or reset, or the linger time is over
    discarded += n;
  }
  disarm();
}

// Phase accept/idle. A read stays pending on the client, into the session's buffer, so a busy
// keep-alive connection costs no syscall between requests (async_wait would cost an epoll_ctl
// each time). After a whole tick without a byte the read is cancelled and the connection parked.
asio::awaitable<Session::Wait> Session::wait_for_request() {
  if (!in_.empty()) co_return Wait::Ready;  // a pipelined request is already here
  const HttpOptions& http = runtime_.options.http;
  client_conn_.idle_since = Clock::now();
  in_.ensure_block();
  in_.clear();
  arm(Phase::Idle, client_conn_.served_any ? http.keepalive_timeout : http.request_head_timeout);
  deadline_.soft_at = client_conn_.idle_since + net::DeadlineSweeper::kTick;
  idle_ = true;
  cooling_ = false;
  auto [ec, n] =
      co_await client_.async_read_some(asio::buffer(in_.write_ptr(), in_.write_space()), kNoThrow);
  idle_ = false;
  deadline_.soft_at = TimePoint::max();
  if (ec == asio::error::operation_aborted && cooling_ && !timed_out_ && !ctx_.draining) {
    co_return Wait::Park;
  }
  if (ec || timed_out_ || ctx_.draining) co_return Wait::Close;
  in_.commit(n);
  co_return Wait::Ready;
}

// Phase read_request_head: until the blank line, within the head timeout and size limits.
asio::awaitable<bool> Session::read_request_head() {
  // Nothing of the previous request may reach a refusal of this one (its id, its headers).
  response_extras_.clear();
  trace_.request_id_size = 0;
  in_.ensure_block();
  arm(Phase::RequestHead, runtime_.options.http.request_head_timeout);
  request_scanner_.reset();
  bool scanning = false;
  bool line_checked = false;
  for (;;) {
    if (!scanning) {
      // RFC 9112 §2.2: ignore empty lines before the request line.
      while (in_.readable().starts_with("\r\n"))
        in_.consume(2);
      scanning = !in_.empty() && in_.readable() != "\r";
    }
    if (scanning) {
      in_.compact();  // the scanner's offsets are relative to the head's first byte
      switch (request_scanner_.scan(in_.readable())) {
        case http::ScanStatus::Complete: {
          std::string_view head = in_.readable().substr(0, request_scanner_.head_size());
          http::RequestLimits limits{runtime_.options.http.max_headers};
          if (auto error = http::parse_request_head(head, limits, request_)) {
            co_await send_error(error.status, error.reason, http::Close::Yes);
            co_return false;
          }
          co_return true;
        }
        case http::ScanStatus::LineTooLong:
          co_await send_error(414, "request line too long", http::Close::Yes);
          co_return false;
        case http::ScanStatus::HeadTooLarge:
          co_await send_error(431, "request header section too large", http::Close::Yes);
          co_return false;
        case http::ScanStatus::BadLineEnding:
          co_await send_error(400, "bare LF in request head", http::Close::Yes);
          co_return false;
        case http::ScanStatus::Incomplete:
          if (!line_checked && request_scanner_.first_line_size() > 0) {
            line_checked = true;
            std::string_view line = in_.readable().substr(0, request_scanner_.first_line_size());
            if (auto error = http::check_request_line(line)) {
              co_await send_error(error.status, error.reason, http::Close::Yes);
              co_return false;
            }
          }
          break;
      }
    }
    if (in_.write_space() == 0) in_.compact();
    if (in_.write_space() == 0) {
      co_await send_error(431, "request header section too large", http::Close::Yes);
      co_return false;
    }
    auto [ec, n] = co_await client_.async_read_some(
        asio::buffer(in_.write_ptr(), in_.write_space()), kNoThrow);
    if (timed_out_) {
      co_await send_error(408, "request head not received in time", http::Close::Yes);
      co_return false;
    }
    if (ec) co_return false;  // closed or reset: nobody to answer
    in_.commit(n);
  }
}

// Phases route and the checks that precede any upstream work.
// One request, from its parsed head to its logged end.
asio::awaitable<Next> Session::handle_request() {
  begin_request();
  Next next = co_await route_and_serve();
  end_request();
  co_return next;
}

asio::awaitable<Next> Session::route_and_serve() {
  const HttpOptions& http = runtime_.options.http;
  if (request_.method == http::Method::Connect) {
    co_return co_await send_error(405, "CONNECT is not supported", http::Close::Yes);
  }
  if (request_.framing == http::Framing::ContentLength && request_.content_length > http.max_body) {
    co_return co_await send_error(413, "request body too large", http::Close::Yes);
  }
  const RouteOptions* route = runtime_.router.match(request_.host, request_.target);
  if (route != nullptr) {
    trace_.route = route->index;
    trace_.cluster = route->cluster_index;
  }
  if (route == nullptr) {
    bool has_body = request_.framing != http::Framing::None;
    in_.consume(request_scanner_.head_size());
    co_return co_await send_error(404, "no route for this host and path",
                                  has_body ? http::Close::Yes : http::Close::No);
  }
  if (!route->rate_limits.empty()) {
    if (auto refused = co_await rate_limit(*route)) co_return *refused;
  }
  if (route->cache_index) {
    if (auto answered = co_await cache_lookup(*route)) co_return *answered;
  }
  co_return co_await proxy_request(*ctx_.clusters[route->cluster_index]);
}

// Works out whether the whole request body is already in the buffer: such a body can be sent
// again on a retry; a larger one is streamed and cannot.
void Session::measure_buffered_body() {
  body_buffered_ = 0;
  body_complete_in_buffer_ = true;
  body_streamed_ = false;
  body_fully_sent_ = false;
  sent_continue_ = false;
  body_malformed_ = false;
  // A chunked body complete in the buffer is re-encoded once, right behind the head: every
  // attempt sends the two together. A complete Content-Length body is sent as it is; a longer
  // body of either kind is streamed (stream_request_body).
  std::size_t head_size = upstream_head_.size();
  http::BodyFramer probe;
  probe.start(request_);
  http::BodyFramer::Taken taken = probe.take(in_.readable(), upstream_head_);
  body_complete_in_buffer_ = probe.done();
  body_malformed_ = probe.failed();
  if (probe.done()) {
    body_buffered_ = taken.used;
  } else {
    upstream_head_.resize(head_size);
  }
}

// Phases select_upstream .. response, with retries on other backends.
asio::awaitable<Next> Session::proxy_request(ClusterLocal& local) {
  const upstream::ClusterOptions& options = local.cluster->options();
  if (options.max_in_flight > 0 && local.cluster->in_flight() >= options.max_in_flight) {
    in_.consume(request_scanner_.head_size());
    response_extras_.append("Retry-After: 1\r\n");
    bool has_body = request_.framing != http::Framing::None;
    co_return co_await send_error(503, "upstream at max_in_flight",
                                  has_body ? http::Close::Yes : http::Close::No);
  }
  TimePoint start = Clock::now();
  total_timed_out_ = false;
  total_deadline_ =
      options.timeouts.total > Duration::zero() ? start + options.timeouts.total : TimePoint::max();
  local.budget.record_request(start);
  request_reached_ = false;
  idempotency_key_ = http::find_field(request_.headers, "idempotency-key") != nullptr;
  ClientFacts client{peer_text_, client_conn_.trusted, "http", local.cluster->name()};
  // The request id goes to the backend too; a cache revalidation adds its validators.
  request_fields_.assign("X-Request-Id: ").append(trace_.id()).append("\r\n");
  if (cache_.revalidating) request_fields_.append(cache_.validators);
  RequestEdits edits{cache_.active() && !cache_.invalidate, request_fields_};
  build_upstream_request(request_, client, runtime_.options.http.via, upstream_head_, edits);
  // request_'s views stay valid until a streamed body reuses the buffer: what must outlive
  // that (the log line, the invalidation key) was copied before.
  in_.consume(request_scanner_.head_size());
  measure_buffered_body();
  if (body_malformed_) {
    co_return co_await send_error(400, "malformed chunked request body", http::Close::Yes);
  }
  if (request_.framing == http::Framing::Chunked && body_complete_in_buffer_ &&
      body_buffered_ > runtime_.options.http.max_body) {
    co_return co_await send_error(413, "request body too large", http::Close::Yes);
  }

  balancing::TriedSet tried;
  AttemptFailure last{Failure::ConnectFailure, 503, "no healthy backend", Reached::No};
  for (std::uint32_t attempts = 1;; ++attempts) {
    upstream::Backend* backend = local.pick(tried);
    if (backend == nullptr) break;
    tried.set(backend->index());
    trace_.backend = backend;
    trace_.attempts = attempts;
    backend->begin_request();
    AttemptResult result = co_await attempt(local, *backend, attempts);
    backend->end_request();
    if (result.done) {
      total_deadline_ = TimePoint::max();
      co_return result.next;
    }
    last = result.failure;
    if (!result.retry_granted) count_failure(*backend, last);
    // Once any attempt wrote the request, a later failure (say, a connect failure after its
    // connection broke) does not make it unseen: the backend may have processed it.
    if (request_reached_) last.reached = Reached::Yes;
    Replayable replayable =
        body_complete_in_buffer_ && !body_streamed_ ? Replayable::Yes : Replayable::No;
    AttemptOutcome outcome{last.failure, last.status,     attempts,        last.reached,
                           replayable,   request_.method, idempotency_key_};
    bool allowed = result.retry_granted || may_retry(options.retry, outcome);
    bool retry = result.retry_granted || (allowed && local.budget.try_spend(Clock::now()));
    if (allowed && !retry) ctx_.metrics.retry_budget_exhausted.add();
    if (!retry) break;
    ctx_.metrics.retries.add();
    if (total_timed_out_) break;
    Duration pause = retry_backoff(options.retry, attempts, ctx_.rng);
    if (pause > Duration::zero()) {
      asio::steady_timer timer(client_.get_executor(), pause);
      co_await timer.async_wait(kNoThrow);
    }
  }
  total_deadline_ = TimePoint::max();
  bool body_left = !body_complete_in_buffer_ || body_streamed_;
  if (!body_left) in_.consume(body_buffered_);
  if (!body_left) {
    if (auto served = co_await serve_stale_on_error()) co_return *served;
  }
  co_return co_await send_error(last.status, last.detail,
                                body_left ? http::Close::Yes : http::Close::No);
}

// One try on one backend. A pooled connection that turns out dead before any response byte is
// replaced by a fresh one transparently, without counting an attempt: the backend saw nothing.
asio::awaitable<Session::AttemptResult> Session::attempt(ClusterLocal& local,
                                                         upstream::Backend& backend,
                                                         std::uint32_t attempts_done) {
  upstream::ConnectionPool& pool = *local.pools[backend.index()];
  const upstream::ClusterOptions& options = local.cluster->options();
  bool force_new = false;
  for (;;) {
    if (auto failure = co_await connect(pool, force_new)) {
      co_return AttemptResult{false, false, Next::Close, *failure};
    }
    bool reused = conn_->reused;
    bool replayable_before = body_complete_in_buffer_ && !body_streamed_;
    BodySend sent = co_await send_request();
    if (sent == BodySend::ClientGone) {
      release_upstream(pool, upstream::Reuse::No);
      co_return AttemptResult{true, false, Next::Close, {}};
    }
    if (sent == BodySend::ClientTimeout) {  // like nginx's client_body_timeout
      release_upstream(pool, upstream::Reuse::No);
      co_return AttemptResult{
          true,
          false,
          co_await send_error(408, "request body not received in time", http::Close::Yes),
          {}};
    }
    if (sent == BodySend::TooLarge || sent == BodySend::BadBody) {
      release_upstream(pool, upstream::Reuse::No);
      bool large = sent == BodySend::TooLarge;
      co_return AttemptResult{
          true,
          false,
          co_await send_error(large ? 413 : 400,
                              large ? "request body too large" : "malformed chunked request body",
                              http::Close::Yes),
          {}};
    }
    bool got_bytes = false;
    std::optional<AttemptFailure> failure;
    if (sent == BodySend::Sent) {
      failure = co_await read_response_head(got_bytes);
    } else {
      failure = AttemptFailure{Failure::Reset, 502, "upstream failed while receiving the request",
                               Reached::Yes};
      if (sent == BodySend::Timeout) {
        failure = AttemptFailure{Failure::Timeout, 504, "upstream stalled receiving the request",
                                 Reached::Yes};
      }
    }
    if (!failure) break;
    release_upstream(pool, upstream::Reuse::No);
    // A reused connection closed before any response byte: most likely the backend's keep-alive
    // timeout raced the request, but a backend that died while processing it looks the same. So
    // only a request that may be repeated is sent again; any other gets the failure (take_idle
    // checked the connection just before the request was written, which makes the race rare).
    bool stale_pooled = reused && !got_bytes && failure->failure == Failure::Reset;
    if (stale_pooled && replayable_before && !body_streamed_ &&
        may_repeat(options.retry, request_.method, idempotency_key_)) {
      force_new = true;  // retry on a fresh connection to the same backend
      continue;
    }
    co_return AttemptResult{false, false, Next::Close, *failure};
  }

  // A response head arrived. Passive health counts 5xx as failures; any other answer is a
  // success once its body came through whole (relay_response: a body cut off midway counts).
  TimePoint now = Clock::now();
  if (response_.status >= 500) backend.record_failure(now);
  if (options.retry.retries_status(response_.status)) {
    Replayable replayable =
        body_complete_in_buffer_ && !body_streamed_ ? Replayable::Yes : Replayable::No;
    AttemptOutcome outcome{Failure::Status, response_.status, attempts_done,   Reached::Yes,
                           replayable,      request_.method,  idempotency_key_};
    bool allowed = may_retry(options.retry, outcome);
    if (allowed && !local.budget.try_spend(now)) {
      ctx_.metrics.retry_budget_exhausted.add();
    } else if (allowed) {
      release_upstream(pool, upstream::Reuse::No);
      co_return AttemptResult{
          false, true, Next::Close, {Failure::Status, 502, "retried status", Reached::Yes}};
    }
  }
  if (auto answered = co_await cache_response(pool)) {
    if (response_.status < 500) backend.record_success();
    co_return AttemptResult{true, false, *answered, {}};
  }
  if (response_.status == 101) {
    backend.record_success();
    co_return AttemptResult{true, false, co_await tunnel(pool), {}};
  }
  co_return AttemptResult{true, false, co_await relay_response(pool), {}};
}

// Phase connect: an idle pooled connection, or a new one within max_connections (waiting in a
// bounded queue when the backend is at its limit) under the connect timeout.
asio::awaitable<std::optional<Session::AttemptFailure>> Session::connect(
    upstream::ConnectionPool& pool, bool force_new) {
  const upstream::ClusterOptions& options = pool.backend().cluster().options();
  TimePoint now = Clock::now();
  if (!force_new) {
    conn_ = pool.take_idle(now);
    if (conn_) co_return std::nullopt;
  }
  upstream::UpstreamConnectionPtr fresh = pool.reserve_new();
  if (!fresh) {
    if (pool.waiting() >= options.pool.queue_size) {
      co_return AttemptFailure{Failure::ConnectFailure, 503, "upstream connection queue full",
                               Reached::No};
    }
    TimePoint give_up = now + options.pool.queue_timeout;
    asio::steady_timer timer(client_.get_executor());
    while (!fresh) {
      now = Clock::now();
      if (now >= give_up) {
        co_return AttemptFailure{Failure::ConnectFailure, 503,
                                 "timed out waiting for an upstream connection", Reached::No};
      }
      // Woken early by a release on this worker; other workers' releases are seen within 10 ms.
      timer.expires_after(std::min<Duration>(give_up - now, std::chrono::milliseconds(10)));
      pool.add_waiter(timer);
      co_await timer.async_wait(kNoThrow);
      pool.remove_waiter(timer);
      if (!force_new) {
        conn_ = pool.take_idle(Clock::now());
        if (conn_) co_return std::nullopt;
      }
      fresh = pool.reserve_new();
    }
  }
  conn_ = std::move(fresh);
  arm(Phase::Connect, options.timeouts.connect);
  auto connect_start = std::chrono::steady_clock::now();
  std::error_code ec =
      co_await upstream::Exchange(conn_->stream, up_).connect(pool.backend().endpoint());
  trace_.connect_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - connect_start)
                          .count();
  if (ec && net::DescriptorReserve::out_of_descriptors(ec)) {
    // Pier's own shortage, not the backend's fault: 503, and no mark against the backend.
    pool.release(std::move(conn_), upstream::Reuse::No, Clock::now());
    co_return AttemptFailure{Failure::ConnectFailure, 503,
                             "no file descriptor free for an upstream connection", Reached::No};
  }
  if (ec || timed_out_) {
    bool timeout = timed_out_ && !total_timed_out_;
    telemetry::BackendMetrics& m = ctx_.metrics.backends[trace_.cluster][pool.backend().index()];
    (timeout ? m.timeouts : m.connect_errors).add();
    pool.release(std::move(conn_), upstream::Reuse::No, Clock::now());
    spdlog::debug("upstream {}: connect to {} failed: {}", pool.backend().cluster().name(),
                  pool.backend().name(), timeout ? "timed out" : ec.message());
    if (total_timed_out_) {
      co_return AttemptFailure{Failure::Timeout, 504, "request timed out", Reached::No};
    }
    co_return AttemptFailure{Failure::ConnectFailure, timeout ? 504 : 502,
                             timeout ? "upstream connect timed out" : "upstream connect failed",
                             Reached::No};
  }
  co_return std::nullopt;
}

// Passive outlier detection: what an attempt's failure says about its backend. Connect failures,
// resets and response timeouts count (a hung backend is ejected after a few, as nginx marks a
// backend failed after its first); Pier's own limits (503: queue full) and the request's total
// timeout do not. A success in between starts the count again, so a slow but working backend is
// not ejected for one slow answer.
void Session::count_failure(upstream::Backend& backend, const AttemptFailure& failure) {
  bool counts = false;
  switch (failure.failure) {
    case Failure::ConnectFailure:
      counts = failure.status != 503;
      break;
    case Failure::Reset:
      counts = true;
      break;
    case Failure::Timeout:
      counts = !total_timed_out_;
      if (counts && failure.reached == Reached::Yes) {
        ctx_.metrics.backends[trace_.cluster][backend.index()].timeouts.add();
      }
      break;
    case Failure::Status:
      break;  // counted where the status arrived (attempt)
  }
  if (counts) backend.record_failure(Clock::now());
}

void Session::release_upstream(upstream::ConnectionPool& pool, upstream::Reuse reuse) {
  if (conn_) pool.release(std::move(conn_), reuse, Clock::now());
}

}  // namespace pier::proxy
