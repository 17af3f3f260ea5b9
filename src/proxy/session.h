// One client connection: reads requests and proxies them through the phases of docs/phases.md,
// one at a time, in order (pipelined requests wait in the buffer for their turn).
#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <string>

#include "base/cidr.h"
#include "http/chunked.h"
#include "http/head_scanner.h"
#include "http/message.h"
#include "http/status.h"
#include "net/buffer.h"
#include "net/deadline.h"
#include "proxy/forward_head.h"
#include "proxy/retry_policy.h"
#include "proxy/runtime.h"

namespace pier::proxy {

enum class Next { KeepAlive, Close };

class Session {
 public:
  Session(WorkerContext& ctx, asio::ip::tcp::socket socket, const asio::ip::tcp::endpoint& peer);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  asio::awaitable<void> run();

 private:
  // What a deadline guards, so that an expiry maps to the right status.
  enum class Phase { Idle, RequestHead, Queue, Connect, ResponseHeader, Body };

  // How one attempt on one backend ended when it did not produce the final response.
  struct AttemptFailure {
    Failure failure;
    int status;  // what the client gets if there is no retry
    std::string_view detail;
    Reached reached;
  };
  struct AttemptResult {
    bool done = false;           // the client got its response (or is gone)
    bool retry_granted = false;  // attempt() already decided to retry (and spent the budget)
    Next next = Next::Close;
    AttemptFailure failure{};
  };
  enum class BodySend { Sent, ClientGone, UpstreamFailed, TooLarge, BadBody, Timeout };

  // Phases (docs/phases.md).
  asio::awaitable<bool> wait_for_request(bool first);
  asio::awaitable<bool> read_request_head();
  asio::awaitable<Next> handle_request();
  asio::awaitable<Next> proxy_request(ClusterLocal& local);
  upstream::Backend* select_upstream(ClusterLocal& local, const balancing::TriedSet& tried);
  asio::awaitable<AttemptResult> attempt(ClusterLocal& local, upstream::Backend& backend,
                                         std::uint32_t attempts_done);
  asio::awaitable<std::optional<AttemptFailure>> connect(upstream::ConnectionPool& pool,
                                                         bool force_new);
  asio::awaitable<BodySend> send_request();
  asio::awaitable<BodySend> stream_request_body();
  asio::awaitable<std::optional<AttemptFailure>> read_response_head(bool& got_bytes);
  asio::awaitable<Next> relay_response(upstream::ConnectionPool& pool);
  asio::awaitable<bool> relay_response_body(const ResponseFraming& plan, bool& upstream_clean);
  asio::awaitable<Next> tunnel(upstream::ConnectionPool& pool);
  asio::awaitable<Next> send_error(int status, std::string_view detail, http::Close close);

  // Helpers.
  void arm(Phase phase, Duration timeout);
  void disarm() { deadline_.disarm(); }
  void release_upstream(upstream::ConnectionPool& pool, upstream::Reuse reuse);
  void measure_buffered_body();
  static void on_deadline(void* self);
  static void on_drain(void* self);

  WorkerContext& ctx_;
  const Runtime& runtime_;
  asio::ip::tcp::socket client_;
  Ip16 peer_ip_{};
  std::string peer_text_;
  bool peer_trusted_ = false;

  net::Buffer in_;  // bytes from the client
  net::Buffer up_;  // bytes from the upstream
  http::HeadScanner request_scanner_;
  http::HeadScanner response_scanner_;
  http::RequestHead request_;
  http::ResponseHead response_;
  http::ChunkedDecoder chunked_;
  std::string upstream_head_;  // the request head as sent upstream, kept for retries
  std::string out_;            // a head on its way to the client

  // The request body: how much of it sits complete in in_ (a replayable body), or that it must
  // be streamed from the client.
  std::uint64_t body_buffered_ = 0;
  bool body_complete_in_buffer_ = true;
  bool body_streamed_ = false;  // bytes beyond the buffer were read: no replay possible
  bool body_fully_sent_ = false;
  bool sent_continue_ = false;
  bool body_malformed_ = false;  // chunked framing already known to be broken

  upstream::UpstreamConnectionPtr conn_;
  net::Deadline deadline_;
  Phase phase_ = Phase::Idle;
  TimePoint total_deadline_ = TimePoint::max();
  bool timed_out_ = false;
  bool total_timed_out_ = false;
  bool idle_ = false;
};

}  // namespace pier::proxy
