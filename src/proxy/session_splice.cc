// Session, continued: large bodies moved with splice(2), socket to pipe to socket inside the
// kernel, where both streams are plain TCP (session.h's SpliceEnd). Split from session_relay.cc
// only to keep each file readable.
#include <spdlog/spdlog.h>

#include <asio/post.hpp>

#include "proxy/io.h"
#include "proxy/session.h"

namespace pier::proxy {

// The rest of a large Content-Length request body, client -> pipe -> upstream. nullopt: splice
// does not work here and nothing was moved.
asio::awaitable<std::optional<Session::BodySend>> Session::splice_request_body(
    net::Pipe pipe, std::uint64_t remaining) {
  std::uint64_t moved = 0;
  SpliceEnd end = co_await splice_between(client_, conn_->stream, std::move(pipe), remaining,
                                          conn_->backend->cluster().options().timeouts.idle, moved);
  trace_.bytes_in += moved;
  ctx_.metrics.bytes_in_spliced.add(moved);
  if (end != SpliceEnd::Unsupported) body_streamed_ = true;  // not replayable on a retry
  switch (end) {
    case SpliceEnd::Done:
      body_fully_sent_ = true;
      co_return BodySend::Sent;
    case SpliceEnd::SourceFailed:
      co_return BodySend::ClientGone;
    case SpliceEnd::SinkFailed:
      co_return BodySend::UpstreamFailed;
    case SpliceEnd::SourceTimedOut:
      co_return client_stall_or_gone();
    case SpliceEnd::SinkTimedOut:
      co_return BodySend::Timeout;
    case SpliceEnd::Unsupported:
      co_return std::nullopt;
  }
  co_return std::nullopt;
}

// The rest of a large Content-Length response body, upstream -> pipe -> client. nullopt:
// splice(2) does not work here and nothing was moved, so it is copied.
asio::awaitable<std::optional<bool>> Session::splice_response_body(net::Pipe pipe,
                                                                   bool& upstream_clean) {
  std::uint64_t remaining = body_.remaining();
  up_.release();  // empty, and not needed while the kernel moves the rest
  std::uint64_t moved = 0;
  SpliceEnd end = co_await splice_between(conn_->stream, client_, std::move(pipe), remaining,
                                          conn_->backend->cluster().options().timeouts.idle, moved);
  trace_.bytes_out += moved;
  ctx_.metrics.bytes_out_spliced.add(moved);
  upstream_broke_ = end == SpliceEnd::SourceFailed || end == SpliceEnd::SourceTimedOut;
  if (end == SpliceEnd::Unsupported) {
    up_.ensure_block();  // no byte moved: copy instead
    co_return std::nullopt;
  }
  body_.skipped(moved);
  // Bytes beyond the Content-Length would be taken for the next response: not reusable.
  upstream_clean = end == SpliceEnd::Done && !conn_->stream.has_pending_input();
  co_return end == SpliceEnd::Done;
}

// Splicing pays from about one block on: below that, its extra syscalls cost more than the copy.
// A body being stored in the cache must pass through Pier's memory, so it is copied.
std::optional<net::Pipe> Session::pipe_for_splice(std::uint64_t remaining) {
  if (!runtime_.options.http.splice || cache_.capture || remaining < net::Worker::kBodyBufferSize ||
      !client_.splice_handle() || !conn_->stream.splice_handle()) {
    return std::nullopt;
  }
  return ctx_.worker.pipes().acquire();
}

// A splice loop whose two sides never make it wait yields after this much.
constexpr std::uint64_t kSpliceYieldBytes = 1 << 20;

// Moves exactly `bytes` from one socket to the other through `pipe`, inside the kernel
// (net/splice.h); `moved` counts what reached `to`. Both sockets are already non-blocking (Asio
// made them so at their first asynchronous operation), so a splice never blocks the worker;
// readiness is awaited through Asio. The idle timeout runs from the last byte that moved.
asio::awaitable<Session::SpliceEnd> Session::splice_between(net::Stream& from, net::Stream& to,
                                                            net::Pipe pipe, std::uint64_t bytes,
                                                            Duration idle, std::uint64_t& moved) {
  std::optional<int> source = from.splice_handle();
  std::optional<int> sink = to.splice_handle();
  if (!source || !sink) co_return SpliceEnd::Unsupported;  // bytes that must pass through Pier
  std::size_t in_pipe = 0;
  bool source_ready = true;  // try to splice before waiting for readability
  bool progressed = false;   // since the idle timeout was last armed
  std::uint64_t since_yield = 0;
  arm(Phase::Body, idle);
  while (bytes > 0 || in_pipe > 0) {
    if (since_yield >= kSpliceYieldBytes) {
      // Both sides kept up: let the worker's other connections have their turn.
      since_yield = 0;
      arm(Phase::Body, idle);
      co_await asio::post(to.get_executor(), asio::use_awaitable);
      if (timed_out_) co_return SpliceEnd::SinkTimedOut;  // the total timeout
    }
    if (bytes > 0 && source_ready && in_pipe < pipe.capacity()) {
      std::size_t room = pipe.capacity() - in_pipe;
      net::SpliceResult got =
          net::splice_some(*source, pipe.write_end(),
                           static_cast<std::size_t>(std::min<std::uint64_t>(bytes, room)));
      if (got.error && moved == 0 && in_pipe == 0 && net::splice_unsupported(got.error)) {
        disable_splice(got.error);
        co_return SpliceEnd::Unsupported;
      }
      if (got.eof || got.error) co_return SpliceEnd::SourceFailed;  // closed or failed midway
      // EAGAIN: nothing to read, or no room left in the pipe. The latter costs one wait that
      // returns at once (the re-armed wait reports the socket's readiness as it is).
      source_ready = !got.would_block;
      in_pipe += got.bytes;
      bytes -= got.bytes;
      progressed = progressed || got.bytes > 0;
    }
    if (in_pipe > 0) {
      net::SpliceResult put = net::splice_some(pipe.read_end(), *sink, in_pipe);
      if (put.eof || put.error) co_return SpliceEnd::SinkFailed;  // the peer is gone
      in_pipe -= put.bytes;
      moved += put.bytes;
      since_yield += put.bytes;
      progressed = progressed || put.bytes > 0;
      if (put.would_block &&
          !co_await wait_for(to, net::Stream::Wait::Write, idle, progressed, since_yield)) {
        co_return timed_out_ ? SpliceEnd::SinkTimedOut : SpliceEnd::SinkFailed;
      }
      continue;
    }
    if (!source_ready) {
      if (!co_await wait_for(from, net::Stream::Wait::Read, idle, progressed, since_yield)) {
        co_return timed_out_ ? SpliceEnd::SourceTimedOut : SpliceEnd::SourceFailed;
      }
      source_ready = true;
    }
  }
  ctx_.worker.pipes().release(std::move(pipe));  // empty: reusable
  co_return SpliceEnd::Done;
}

// One readiness wait of a splice loop. The idle timeout restarts only when bytes moved since it
// was last armed: a socket that keeps reporting readiness without taking or giving a byte still
// times out.
asio::awaitable<bool> Session::wait_for(net::Stream& stream, net::Stream::Wait what, Duration idle,
                                        bool& progressed, std::uint64_t& since_yield) {
  if (progressed) arm(Phase::Body, idle);
  progressed = false;
  since_yield = 0;  // waiting lets the other connections run
  auto [ec] = co_await stream.async_wait(what, kNoThrow);
  co_return !ec && !timed_out_;
}

// splice(2) failed on its first call with an error that says the descriptors cannot be spliced
// here (a sandbox, an old kernel): this worker copies from now on.
void Session::disable_splice(const std::error_code& error) {
  spdlog::warn("splice(2) is not usable here ({}): large bodies will be copied", error.message());
  ctx_.worker.pipes().disable();
}

}  // namespace pier::proxy
