// One client connection: reads requests and proxies them through the phases of docs/phases.md,
// one at a time, in order (pipelined requests wait in the buffer for their turn).
#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <string>

#include "base/cidr.h"
#include "http/body_framer.h"
#include "http/head_scanner.h"
#include "http/message.h"
#include "http/status.h"
#include "net/buffer.h"
#include "net/deadline.h"
#include "net/splice.h"
#include "proxy/client_connection.h"
#include "proxy/forward_head.h"
#include "proxy/request_trace.h"
#include "proxy/retry_policy.h"
#include "proxy/runtime.h"
#include "proxy/session_cache.h"
#include "ratelimit/gcra.h"

namespace pier::proxy {

enum class Next { KeepAlive, Close };

class Session {
 public:
  Session(WorkerContext& ctx, ClientConnection conn);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Park: the connection went cold between requests; take_connection() and park it.
  enum class Ending { Close, Park };
  asio::awaitable<Ending> run();
  ClientConnection take_connection() { return std::move(client_conn_); }

 private:
  // What a deadline guards, so that an expiry maps to the right status.
  enum class Phase { Idle, RequestHead, Connect, ResponseHeader, Body };

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
  enum class Wait { Ready, Close, Park };
  // ClientTimeout: the client stopped sending its body (-> 408, the backend is not to blame);
  // Timeout: the upstream stopped taking it, or the total timeout (-> 504).
  enum class BodySend {
    Sent,
    ClientGone,
    ClientTimeout,
    UpstreamFailed,
    TooLarge,
    BadBody,
    Timeout
  };

  // Phases (docs/phases.md).
  asio::awaitable<Wait> wait_for_request();
  asio::awaitable<bool> read_request_head();
  asio::awaitable<Next> handle_request();
  asio::awaitable<Next> route_and_serve();
  asio::awaitable<Next> proxy_request(ClusterLocal& local);
  asio::awaitable<AttemptResult> attempt(ClusterLocal& local, upstream::Backend& backend,
                                         std::uint32_t attempts_done);
  asio::awaitable<std::optional<AttemptFailure>> connect(upstream::ConnectionPool& pool,
                                                         bool force_new);
  asio::awaitable<BodySend> send_request();
  asio::awaitable<BodySend> stream_request_body();
  BodySend client_stall_or_gone() const;
  asio::awaitable<std::optional<AttemptFailure>> read_response_head(bool& got_bytes);
  asio::awaitable<bool> pass_interim(std::size_t head_size);
  asio::awaitable<Next> relay_response(upstream::ConnectionPool& pool);
  asio::awaitable<bool> relay_response_body(const ResponseFraming& plan, bool& upstream_clean);
  asio::awaitable<std::optional<bool>> splice_response_body(net::Pipe pipe, bool& upstream_clean);
  // Large bodies moved with splice(2) (session_relay.cc).
  // Unsupported: nothing moved, and splice(2) cannot be used here: copy instead.
  enum class SpliceEnd {
    Done,
    SourceFailed,
    SinkFailed,
    SourceTimedOut,
    SinkTimedOut,
    Unsupported
  };
  std::optional<net::Pipe> pipe_for_splice(std::uint64_t remaining);
  asio::awaitable<SpliceEnd> splice_between(net::Stream& from, net::Stream& to, net::Pipe pipe,
                                            std::uint64_t bytes, Duration idle,
                                            std::uint64_t& moved);
  asio::awaitable<bool> wait_for(net::Stream& stream, net::Stream::Wait what, Duration idle,
                                 bool& progressed, std::uint64_t& since_yield);
  void disable_splice(const std::error_code& error);
  asio::awaitable<std::optional<BodySend>> splice_request_body(net::Pipe pipe,
                                                               std::uint64_t remaining);
  asio::awaitable<Next> tunnel(upstream::ConnectionPool& pool);
  asio::awaitable<Next> send_error(int status, std::string_view detail, http::Close close);
  asio::awaitable<void> linger();

  // Phase rate_limit (session_ratelimit.cc).
  asio::awaitable<std::optional<Next>> rate_limit(const RouteOptions& route);
  asio::awaitable<ratelimit::Decision> decide(std::size_t limit_index);
  void build_rate_key(const RateLimitOptions& limit, const RouteOptions& route);
  asio::awaitable<Next> send_rate_limited(const RateLimitOptions& limit,
                                          const ratelimit::Decision& decision);
  // Fields added to whatever response this request gets (rate-limit headers, Cache-Status).
  void add_response_fields(std::size_t head_end);

  // Phases accept (request id) and log (metrics, access log): session_log.cc.
  void begin_request();
  void end_request();
  void record_metrics(std::int64_t duration_us);
  void count_refused_head(int status);
  void write_access_log(std::int64_t duration_us);

  // Cache phases (session_cache.cc).
  asio::awaitable<std::optional<Next>> cache_lookup(const RouteOptions& route);
  asio::awaitable<bool> wait_for_leader();
  asio::awaitable<Next> purge();
  asio::awaitable<Next> serve_entry(const cache::Entry& entry);
  void start_background_refresh(const cache::EntryPtr& stale);
  asio::awaitable<std::optional<Next>> cache_response(upstream::ConnectionPool& pool);
  asio::awaitable<std::optional<Next>> serve_stale_on_error();
  void start_capture();
  void capture_body(std::string_view data);
  asio::awaitable<void> finish_capture(bool complete);
  asio::awaitable<void> invalidate_after_unsafe();

  // Helpers.
  void arm(Phase phase, Duration timeout);
  void disarm() { deadline_.disarm(); }
  void release_upstream(upstream::ConnectionPool& pool, upstream::Reuse reuse);
  void count_failure(upstream::Backend& backend, const AttemptFailure& failure);
  void measure_buffered_body();
  static void on_deadline(void* self);
  static void on_drain(void* self);
  static void on_cool(void* self);

  WorkerContext& ctx_;
  const Runtime& runtime_;
  ClientConnection client_conn_;
  net::Stream& client_;      // client_conn_.stream
  char peer_text_[48] = {};  // the peer's address as text, for X-Forwarded-For
  std::unique_ptr<SessionScratch> scratch_;

  net::Buffer in_;  // bytes from the client
  net::Buffer up_;  // bytes from the upstream
  http::HeadScanner request_scanner_;
  std::size_t response_head_size_ = 0;  // of the final response head at the front of up_
  http::RequestHead& request_;          // these four live in scratch_
  http::ResponseHead& response_;
  std::string& upstream_head_;
  std::string& out_;
  std::string& body_out_;
  http::BodyFramer body_;         // the body in flight, either way
  CacheFlow cache_;               // its strings live in scratch_
  std::string& response_extras_;  // these five live in scratch_ too
  std::string& request_fields_;
  std::string& rate_key_;
  std::string& log_line_;
  SessionScratch::LogCopy& log_copy_;
  RequestTrace trace_;
  std::chrono::steady_clock::time_point request_sent_at_{};
  telemetry::MethodClass method_class_ = telemetry::MethodClass::Other;
  int version_minor_ = 1;

  // The request body: how much of it sits complete in in_ (a replayable body), or that it must
  // be streamed from the client.
  std::uint64_t body_buffered_ = 0;
  bool body_complete_in_buffer_ = true;
  bool body_streamed_ = false;  // bytes beyond the buffer were read: no replay possible
  bool body_fully_sent_ = false;
  bool sent_continue_ = false;
  bool body_malformed_ = false;   // chunked framing already known to be broken
  bool request_reached_ = false;  // some attempt wrote bytes of the request to a backend
  bool idempotency_key_ = false;  // the request carries Idempotency-Key
  bool response_head_sent_ = false;
  bool upstream_broke_ = false;  // the response body failed on the backend's side

  upstream::UpstreamConnectionPtr conn_;
  net::Deadline deadline_;
  Phase phase_ = Phase::Idle;
  TimePoint total_deadline_ = TimePoint::max();
  bool timed_out_ = false;
  bool total_timed_out_ = false;
  bool idle_ = false;     // waiting between requests (a read is pending on the client)
  bool cooling_ = false;  // the idle read was cancelled to park the connection
  bool linger_ = false;   // an error response closes the connection: read the rest first
};

}  // namespace pier::proxy
