#include "proxy/session.h"

#include <spdlog/spdlog.h>

#include <asio/steady_timer.hpp>

#include "http/request_parser.h"
#include "http/status.h"
#include "proxy/io.h"

namespace pier::proxy {

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

}  // namespace pier::proxy
