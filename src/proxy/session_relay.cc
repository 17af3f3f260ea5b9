// Session, continued: the phases that move bytes (upstream_request, upstream_response, response)
// and the proxy's own error responses (large bodies spliced: session_splice.cc). Split from
// session.cc only to keep each file readable.
#include <array>
#include <asio/co_spawn.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include "http/status.h"
#include "proxy/io.h"
#include "proxy/session.h"
#include "upstream/exchange.h"

namespace pier::proxy {

// Phase upstream_request: the head and a buffered body in one write; a larger body streamed.
asio::awaitable<Session::BodySend> Session::send_request() {
  const upstream::ClusterOptions& options = conn_->backend->cluster().options();
  arm(Phase::Body, options.timeouts.idle);
  // A complete Content-Length body goes as received; a complete chunked one is already
  // re-encoded behind the head (measure_buffered_body).
  bool length_body = body_complete_in_buffer_ && request_.framing == http::Framing::ContentLength;
  std::string_view first_body =
      in_.readable().substr(0, length_body ? static_cast<std::size_t>(body_buffered_) : 0);
  trace_.bytes_in = request_scanner_.head_size() + (body_complete_in_buffer_ ? body_buffered_ : 0);
  auto sent_at = std::chrono::steady_clock::now();
  auto [ec, written] =
      co_await upstream::Exchange(conn_->stream, up_).send(upstream_head_, first_body);
  request_sent_at_ = sent_at;
  if (written > 0) request_reached_ = true;
  if (timed_out_) co_return BodySend::Timeout;
  if (ec) co_return BodySend::UpstreamFailed;
  if (body_complete_in_buffer_) {
    body_fully_sent_ = true;
    co_return BodySend::Sent;
  }
  co_return co_await stream_request_body();
}

// A body larger than the buffer: relayed client -> upstream as it arrives, bounded by the buffer
// (backpressure: nothing more is read from the client until the upstream took the last piece).
asio::awaitable<Session::BodySend> Session::stream_request_body() {
  const upstream::ClusterOptions& options = conn_->backend->cluster().options();
  std::uint64_t max_body = runtime_.options.http.max_body;
  if (request_.expect_continue && in_.empty() && !sent_continue_) {
    sent_continue_ = true;
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    auto [ec, n] = co_await asio::async_write(client_, asio::buffer(kContinue), kNoThrow);
    if (ec) co_return BodySend::ClientGone;
  }
  body_.start(request_);  // nothing of the body has left the buffer yet
  for (;;) {
    // Forward what the buffer holds of the body: a length-framed one as it is, a chunked one
    // re-encoded from what was parsed.
    body_out_.clear();
    http::BodyFramer::Taken taken = body_.take(in_.readable(), body_out_);
    if (body_.failed()) co_return BodySend::BadBody;
    if (body_.data_bytes() > max_body) co_return BodySend::TooLarge;
    std::string_view send = body_.reencodes() ? std::string_view(body_out_) : taken.data;
    if (taken.used > 0) body_streamed_ = true;
    if (!send.empty()) {
      arm(Phase::Body, options.timeouts.idle);
      auto [ec, n] = co_await asio::async_write(conn_->stream, asio::buffer(send), kNoThrow);
      if (timed_out_) co_return BodySend::Timeout;
      if (ec) co_return BodySend::UpstreamFailed;
    }
    trace_.bytes_in += taken.used;
    in_.consume(taken.used);
    if (body_.done()) {
      body_fully_sent_ = true;
      co_return BodySend::Sent;
    }
    if (body_.remaining() > 0 && in_.empty()) {
      if (std::optional<net::Pipe> pipe = pipe_for_splice(body_.remaining())) {
        std::optional<BodySend> spliced =
            co_await splice_request_body(std::move(*pipe), body_.remaining());
        if (spliced) co_return *spliced;  // else no byte moved: copy instead
      }
    }
    if (in_.write_space() == 0) in_.compact();
    arm(Phase::Body, options.timeouts.idle);
    auto [ec, n] = co_await client_.async_read_some(
        asio::buffer(in_.write_ptr(), in_.write_space()), kNoThrow);
    if (ec) co_return client_stall_or_gone();
    in_.commit(n);
  }
}

// A read of the request body from the client ended without bytes.
Session::BodySend Session::client_stall_or_gone() const {
  if (!timed_out_) return BodySend::ClientGone;
  return total_timed_out_ ? BodySend::Timeout : BodySend::ClientTimeout;
}

// Phase upstream_response: the response head within the response-header timeout. 1xx interim
// responses other than 101 are passed on (100 is swallowed: the proxy answered Expect itself).
asio::awaitable<std::optional<Session::AttemptFailure>> Session::read_response_head(
    bool& got_bytes) {
  const upstream::ClusterOptions& options = conn_->backend->cluster().options();
  up_.ensure_block();
  up_.clear();  // whatever an earlier attempt left belongs to a discarded connection
  arm(Phase::ResponseHeader, options.timeouts.response_header);
  upstream::Exchange exchange(conn_->stream, up_);
  for (;;) {
    // Exchange::read_head's steps, written out: no coroutine frame of its own per request.
    std::optional<upstream::HeadOutcome> scanned =
        exchange.scan(request_.method, runtime_.options.http.max_headers, response_);
    if (!scanned) {
      auto [ec, n] = co_await exchange.read_some();
      bool more = exchange.received(ec, n);
      got_bytes = got_bytes || exchange.got_bytes();
      if (more) continue;
      scanned = upstream::HeadOutcome{upstream::HeadEnd::Closed, {}};
    }
    const upstream::HeadOutcome& head = *scanned;
    switch (head.end) {
      case upstream::HeadEnd::Final:
        response_head_size_ = exchange.head_size();
        trace_.header_us = std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::steady_clock::now() - request_sent_at_)
                               .count();
        co_return std::nullopt;
      case upstream::HeadEnd::Interim:
        if (!co_await pass_interim(exchange.head_size())) {
          co_return AttemptFailure{Failure::Reset, 502, "client gone", Reached::Yes};
        }
        exchange.skip_head();
        continue;
      case upstream::HeadEnd::Malformed:
      case upstream::HeadEnd::TooLarge:
        co_return AttemptFailure{Failure::Reset, 502, head.reason, Reached::Yes};
      case upstream::HeadEnd::Closed:
        break;
    }
    up_.release();
    if (timed_out_) {
      co_return AttemptFailure{
          Failure::Timeout, 504,
          total_timed_out_ ? "request timed out" : "upstream response timed out", Reached::Yes};
    }
    co_return AttemptFailure{
        Failure::Reset, 502,
        got_bytes ? "upstream closed mid-head" : "upstream closed the connection", Reached::Yes};
  }
}

// An interim response (103 Early Hints, ...) goes to a client that speaks HTTP/1.1 as it came;
// false when the client is gone.
asio::awaitable<bool> Session::pass_interim(std::size_t head_size) {
  if (response_.status == 100 || request_.version_minor < 1) co_return true;
  auto [ec, n] = co_await asio::async_write(
      client_, asio::buffer(up_.readable().substr(0, head_size)), kNoThrow);
  co_return !ec;
}

// Phases response and release: the head rewritten, then the body streamed as it comes.
asio::awaitable<Next> Session::relay_response(upstream::ConnectionPool& pool) {
  bool must_close = ctx_.draining || !body_fully_sent_;
  ResponseFraming plan = plan_response(request_, response_, must_close);
  build_client_response(response_, request_, plan, runtime_.options.http.via, out_);
  response_extras_.append("X-Request-Id: ").append(trace_.id()).append("\r\n");
  add_response_fields(out_.size());
  trace_.status = response_.status;
  up_.consume(response_head_size_);
  bool upstream_clean = false;
  bool ok = co_await relay_response_body(plan, upstream_clean);
  co_await finish_capture(ok);
  disarm();
  up_.release();
  bool reuse = ok && upstream_clean && response_.keep_alive && body_fully_sent_;
  release_upstream(pool, reuse ? upstream::Reuse::Yes : upstream::Reuse::No);
  if (upstream_broke_) {
    pool.backend().record_failure(Clock::now());  // a reset or a stall mid-body
  } else if (ok && response_.status < 500) {
    pool.backend().record_success();
  }
  if (!ok && !response_head_sent_ && !timed_out_) {
    // Nothing reached the client yet (a body whose framing failed in its first bytes): it gets
    // an answer rather than a bare close.
    response_extras_.clear();
    co_return co_await send_error(502, "malformed response body", http::Close::Yes);
  }
  if (!ok) co_return Next::Close;
  if (body_complete_in_buffer_ && !body_streamed_) in_.consume(body_buffered_);
  co_return plan.close_client ? Next::Close : Next::KeepAlive;
}

// Returns false when either side failed mid-body: the client connection must then be closed, so
// that a truncated body is never taken for a complete one.
asio::awaitable<bool> Session::relay_response_body(const ResponseFraming& plan,
                                                   bool& upstream_clean) {
  const upstream::ClusterOptions& options = conn_->backend->cluster().options();
  bool& head_sent = response_head_sent_;
  head_sent = false;
  upstream_broke_ = false;
  body_.start(response_, plan.dechunk ? http::BodyFramer::ChunkedOutput::DataOnly
                                      : http::BodyFramer::ChunkedOutput::Chunked);
  for (;;) {
    // The part of up_ that belongs to this body: a length- or close-delimited one sent as it is
    // after out_'s head (or after nothing once that is out), a chunked one re-encoded (or
    // de-chunked) from what was parsed into out_ behind the head.
    if (head_sent && body_.reencodes()) out_.clear();
    http::BodyFramer::Taken taken =
        body_.take(up_.readable(), out_, [this](std::string_view d) { capture_body(d); });
    if (body_.failed()) {
      upstream_broke_ = true;
      co_return false;
    }
    bool finished = body_.done();
    // A stored response is in the cache (Redis included) before its last byte reaches the
    // client: whoever asks next, through any Pier of the fleet, finds it.
    if (finished && cache_.capture) co_await finish_capture(true);
    std::string_view first =
        body_.reencodes() || !head_sent ? std::string_view(out_) : std::string_view();
    if (!head_sent || !first.empty() || !taken.data.empty()) {
      std::array<asio::const_buffer, 2> buffers{asio::buffer(first), asio::buffer(taken.data)};
      head_sent = true;
      arm(Phase::Body, options.timeouts.idle);
      auto [ec, n] = co_await asio::async_write(client_, buffers, kNoThrow);
      trace_.bytes_out += n;
      if (ec || timed_out_) co_return false;
    }
    up_.consume(taken.used);
    if (finished) {
      upstream_clean = up_.empty();  // bytes after the body: the upstream is out of step
      co_return true;
    }
    // What is left is the start of a trailer line that must arrive whole: read behind it.
    if (!up_.empty()) up_.compact();
    if (std::optional<net::Pipe> pipe = pipe_for_splice(body_.remaining())) {
      std::optional<bool> spliced = co_await splice_response_body(std::move(*pipe), upstream_clean);
      if (spliced) co_return *spliced;
    }
    arm(Phase::Body, options.timeouts.idle);
    auto [ec, n] = co_await conn_->stream.async_read_some(
        asio::buffer(up_.write_ptr(), up_.write_space()), kNoThrow);
    if (ec || timed_out_) {
      // End of a close-delimited body is the normal end; anything else is a truncation.
      if (ec == asio::error::eof && !timed_out_ && body_.end_of_input()) co_return true;
      upstream_broke_ = !total_timed_out_;
      co_return false;
    }
    up_.commit(n);
  }
}

// After 101 Switching Protocols both connections become one byte pipe until either side closes.
asio::awaitable<Next> Session::tunnel(upstream::ConnectionPool& pool) {
  if (!request_.upgrade) {
    release_upstream(pool, upstream::Reuse::No);
    co_return co_await send_error(502, "unexpected 101 from upstream", http::Close::Yes);
  }
  ResponseFraming plan{false, false};
  build_client_response(response_, request_, plan, runtime_.options.http.via, out_);
  trace_.status = 101;
  up_.consume(response_head_size_);
  const Duration idle = pool.backend().cluster().options().timeouts.idle;
  std::array<asio::const_buffer, 2> head{asio::buffer(out_), asio::buffer(up_.readable())};
  arm(Phase::Body, idle);
  auto [ec1, n1] = co_await asio::async_write(client_, head, kNoThrow);
  up_.consume(up_.size());
  if (!ec1 && !in_.empty()) {
    auto [ec2, n2] =
        co_await asio::async_write(conn_->stream, asio::buffer(in_.readable()), kNoThrow);
    in_.consume(in_.size());
    ec1 = ec2;
  }
  if (ec1) {
    release_upstream(pool, upstream::Reuse::No);
    co_return Next::Close;
  }
  in_.ensure_block();
  // Two pumps on one coroutine each; when one direction ends, the other is closed with it.
  auto pump = [this, idle](net::Stream& from, net::Stream& to,
                           net::Buffer& buf) -> asio::awaitable<void> {
    for (;;) {
      auto [ec, n] =
          co_await from.async_read_some(asio::buffer(buf.write_ptr(), buf.write_space()), kNoThrow);
      if (ec || timed_out_) break;
      arm(Phase::Body, idle);
      auto [wec, wn] = co_await asio::async_write(to, asio::buffer(buf.write_ptr(), n), kNoThrow);
      if (wec || timed_out_) break;
    }
    from.cancel();
    to.cancel();
    to.shutdown_both();
    from.shutdown_both();
  };
  auto executor = client_.get_executor();
  bool other_done = false;
  asio::steady_timer both_done(executor, asio::steady_timer::time_point::max());
  asio::co_spawn(executor, pump(conn_->stream, client_, up_), [&](std::exception_ptr) {
    other_done = true;
    both_done.cancel();
  });
  co_await pump(client_, conn_->stream, in_);
  if (!other_done) co_await both_done.async_wait(kNoThrow);
  release_upstream(pool, upstream::Reuse::No);
  co_return Next::Close;
}

asio::awaitable<Next> Session::send_error(int status, std::string_view detail, http::Close close) {
  out_.clear();
  // A client that asked to close (Connection: close, or HTTP/1.0 without keep-alive) is not
  // kept waiting on a connection it will not use again.
  if (ctx_.draining || !request_.keep_alive) close = http::Close::Yes;
  http::append_error_response(out_, status, detail, close, runtime_.options.http.via);
  if (trace_.request_id_size > 0) {  // none yet for a request whose head was refused
    response_extras_.append("X-Request-Id: ").append(trace_.id()).append("\r\n");
  } else {
    count_refused_head(status);
  }
  add_response_fields(out_.find("\r\n\r\n") + 4);
  trace_.status = status;
  trace_.bytes_out += out_.size();
  arm(Phase::Body, runtime_.options.http.request_head_timeout);
  auto [ec, n] = co_await asio::async_write(client_, asio::buffer(out_), kNoThrow);
  disarm();
  if (!ec && close == http::Close::Yes && !ctx_.draining) linger_ = true;
  if (ec || close == http::Close::Yes) co_return Next::Close;
  co_return Next::KeepAlive;
}

}  // namespace pier::proxy
