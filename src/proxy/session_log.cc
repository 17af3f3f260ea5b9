// Session, continued: the request id at the start of a request, and phase `log` at its end:
// the worker's metrics and one access-log line.
#include <time.h>

#include <algorithm>
#include <cstring>

#include "http/headers.h"
#include "proxy/client_ip.h"
#include "proxy/session.h"

namespace pier::proxy {
namespace {

// A client's X-Request-Id is kept when it is 1-64 bytes of [A-Za-z0-9._:+/=-]; otherwise Pier
// makes its own (the client's never reaches the backend or the log).
bool acceptable_request_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '+' || c == '/' || c == '=' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// The metrics' method label of the method the parser already classified.
telemetry::MethodClass method_class(http::Method m) {
  using telemetry::MethodClass;
  switch (m) {
    case http::Method::Get:
      return MethodClass::Get;
    case http::Method::Head:
      return MethodClass::Head;
    case http::Method::Post:
      return MethodClass::Post;
    case http::Method::Put:
      return MethodClass::Put;
    case http::Method::Delete:
      return MethodClass::Delete;
    case http::Method::Patch:
      return MethodClass::Patch;
    case http::Method::Options:
      return MethodClass::Options;
    default:
      return MethodClass::Other;
  }
}

std::int64_t wall_us() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

}  // namespace

void Session::begin_request() {
  trace_ = RequestTrace{};
  trace_.start = std::chrono::steady_clock::now();
  trace_.route = runtime_.options.routes.size();  // "no route" until one matches
  trace_.bytes_in = request_scanner_.head_size();
  response_extras_.clear();
  std::string_view id = http::field_value(request_.headers, "x-request-id");
  if (!acceptable_request_id(id)) {
    static constexpr char kHex[] = "0123456789abcdef";
    char made[32];
    for (int half = 0; half < 2; ++half) {
      std::uint64_t bits = ctx_.rng.next();
      for (int i = 0; i < 16; ++i, bits >>= 4)
        made[half * 16 + i] = kHex[bits & 15];
    }
    std::memcpy(trace_.request_id, made, sizeof made);
    trace_.request_id_size = sizeof made;
  } else {
    std::memcpy(trace_.request_id, id.data(), id.size());
    trace_.request_id_size = id.size();
  }
  if (ctx_.access_log != nullptr) {
    // The head's views do not outlive a streamed body (it reuses the buffer): copy what the
    // log line needs now.
    log_copy_.method.assign(request_.method_token);
    log_copy_.host.assign(request_.host);
    log_copy_.path.assign(request_.target);
    log_copy_.user_agent.assign(http::field_value(request_.headers, "user-agent"));
    log_copy_.referer.assign(http::field_value(request_.headers, "referer"));
    log_copy_.client.assign(client_ip(peer_text_, client_conn_.trusted, request_.headers,
                                      runtime_.options.trusted_proxies));
  }
  method_class_ = method_class(request_.method);
  version_minor_ = request_.version_minor;
}

// A request refused before it had a head (400, 408, 414, 431, 505): counted under route "none"
// and method "other"; it has no fields to log.
void Session::count_refused_head(int status) {
  std::size_t status_class = static_cast<std::size_t>(std::clamp(status / 100, 1, 5)) - 1;
  telemetry::RouteMetrics& none = ctx_.metrics.routes[runtime_.options.routes.size()];
  none.requests[static_cast<std::size_t>(telemetry::MethodClass::Other)][status_class].add();
}

void Session::end_request() {
  if (trace_.status == 0) trace_.status = 499;  // the client went away before any response
  std::int64_t duration_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::steady_clock::now() - trace_.start)
                                 .count();
  record_metrics(duration_us);
  const auto& routes = runtime_.options.routes;
  bool logged = trace_.route >= routes.size() || routes[trace_.route].access_log;
  if (ctx_.access_log != nullptr && logged) write_access_log(duration_us);
  cache_.end();
}

void Session::record_metrics(std::int64_t duration_us) {
  telemetry::WorkerMetrics& m = ctx_.metrics;
  std::size_t status_class = static_cast<std::size_t>(std::clamp(trace_.status / 100, 1, 5)) - 1;
  auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(0, duration_us));
  telemetry::RouteMetrics& route = m.routes[trace_.route];
  route.requests[static_cast<std::size_t>(method_class_)][status_class].add();
  route.latency.observe(us);
  m.bytes_in.add(trace_.bytes_in);
  m.bytes_out.add(trace_.bytes_out);
  if (trace_.backend != nullptr) {
    telemetry::BackendMetrics& b = m.backends[trace_.cluster][trace_.backend->index()];
    b.requests.add();
    if (trace_.status >= 500) b.errors.add();
    b.latency.observe(us);
  }
  if (cache_.active()) {
    telemetry::CacheMetrics& c = m.caches[cache_.index];
    std::string_view s = cache_.status;
    if (s.starts_with("hit")) {
      c.hits.add();
      if (s.find("ttl=-") != std::string_view::npos) c.stale.add();
    } else if (s.starts_with("fwd=") && !s.starts_with("fwd=method")) {
      c.misses.add();
    }
    if (cache_.stored) c.stored.add();
    if (s.find("fwd-status=304") != std::string_view::npos) c.revalidated.add();
    if (s.find("stale-if-error") != std::string_view::npos) c.stale.add();
    if (s.find("detail=purge") != std::string_view::npos && trace_.status == 200) c.purged.add();
  }
}

void Session::write_access_log(std::int64_t duration_us) {
  telemetry::AccessRecord r;
  r.time_us = wall_us();
  r.request_id = trace_.id();
  r.client = log_copy_.client;
  r.method = log_copy_.method;
  r.host = log_copy_.host;
  r.path = log_copy_.path;
  r.version_minor = version_minor_;
  r.status = trace_.status;
  r.bytes_in = trace_.bytes_in;
  r.bytes_out = trace_.bytes_out;
  r.duration_us = duration_us;
  if (trace_.backend != nullptr) {
    r.upstream = trace_.backend->name();
    r.upstream_connect_us = trace_.connect_us;
    r.upstream_header_us = trace_.header_us;
  }
  r.attempts = trace_.attempts;
  if (cache_.active()) r.cache = cache_.status;
  r.rate_limit = trace_.rate_limit;
  r.user_agent = log_copy_.user_agent;
  r.referer = log_copy_.referer;
  log_line_.clear();
  if (ctx_.access_log->format() == telemetry::LogFormat::Json) {
    telemetry::format_json(r, log_line_);
  } else {
    telemetry::format_combined(r, log_line_);
  }
  if (!ctx_.access_log->ring(ctx_.worker.index()).push(log_line_)) {
    ctx_.metrics.access_log_dropped.add();
  }
}

}  // namespace pier::proxy
