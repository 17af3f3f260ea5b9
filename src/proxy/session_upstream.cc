// Session, continued: phases select_upstream and connect, and the attempt loop that runs the
// upstream phases on one backend after another, retrying by retry_policy.h. Split from
// session.cc only to keep each file readable.
#include <spdlog/spdlog.h>

#include <asio/steady_timer.hpp>

#include "net/descriptor_reserve.h"
#include "proxy/io.h"
#include "proxy/session.h"
#include "upstream/exchange.h"

namespace pier::proxy {

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
