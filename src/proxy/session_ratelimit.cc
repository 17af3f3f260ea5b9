// Session, continued: phase rate_limit (docs/phases.md). Every limit of the route is checked in
// order; the first that refuses answers 429 with Retry-After and the RateLimit headers, before
// any upstream or cache work. Limits with `headers: true` also label allowed responses.
#include <time.h>

#include <charconv>

#include "base/strings.h"
#include "http/headers.h"
#include "proxy/client_ip.h"
#include "proxy/session.h"
#include "ratelimit/redis_gcra.h"

namespace pier::proxy {
namespace {

std::int64_t ceil_seconds(std::int64_t us) {
  return (us + 999'999) / 1'000'000;
}

// The local stores' clock: monotonic, microseconds (vDSO: no syscall).
std::int64_t monotonic_us() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

// draft-ietf-httpapi-ratelimit-headers: RateLimit-Policy: "name";q=B;w=W and
// RateLimit: "name";r=REMAINING;t=SECONDS_UNTIL_FULL.
void append_rate_headers(std::string& out, const RateLimitOptions& l,
                         const ratelimit::Decision& d) {
  out.append("RateLimit-Policy: \"").append(l.name).append("\";q=");
  append_decimal(out, l.limit.burst);
  out.append(";w=");
  append_decimal(out, std::max<std::int64_t>(1, ceil_seconds(l.limit.tolerance_us())));
  out.append("\r\nRateLimit: \"").append(l.name).append("\";r=");
  append_decimal(out, d.remaining);
  out.append(";t=");
  append_decimal(out, ceil_seconds(d.reset_us));
  out.append("\r\n");
}

}  // namespace

void Session::build_rate_key(const RateLimitOptions& l, const RouteOptions& route) {
  rate_key_.clear();
  rate_key_.append("pier:rl:").append(l.name);
  for (const RateKeyPart& part : l.key) {
    rate_key_.push_back('|');
    switch (part.kind) {
      case RateKeyPart::Kind::ClientIp:
        rate_key_.append(client_ip(peer_text_, client_conn_.trusted, request_.headers,
                                   runtime_.options.trusted_proxies));
        break;
      case RateKeyPart::Kind::Route:
        append_decimal(rate_key_, static_cast<std::int64_t>(route.index));
        break;
      case RateKeyPart::Kind::Header:
        rate_key_.append(http::field_value(request_.headers, part.header));
        break;
    }
  }
}

asio::awaitable<ratelimit::Decision> Session::decide(std::size_t index) {
  const RateLimitOptions& l = runtime_.options.rate_limits[index];
  RateLimitCounters& counters = ctx_.rate_limits[index];
  if (l.redis && ctx_.redis) {
    if (auto d = co_await ratelimit::decide_in_redis(*ctx_.redis, rate_key_, l.limit)) co_return *d;
    counters.redis_errors.fetch_add(1, std::memory_order_relaxed);
    if (l.on_redis_error != OnRedisError::LocalFallback) {
      ratelimit::Decision d;
      d.allowed = l.on_redis_error == OnRedisError::Allow;
      d.remaining = d.allowed ? l.limit.burst - 1 : 0;
      d.retry_after_us = d.allowed ? 0 : 1'000'000;
      d.reset_us = l.limit.interval_us;
      co_return d;
    }
  }
  co_return runtime_.limiters[index]->decide(rate_key_, l.limit, monotonic_us());
}

// Phase rate_limit. Returns the 429 sent, or nullopt when every limit let the request through.
asio::awaitable<std::optional<Next>> Session::rate_limit(const RouteOptions& route) {
  bool labelled = false;
  ratelimit::Decision tightest;
  const RateLimitOptions* tightest_limit = nullptr;
  for (std::size_t index : route.rate_limits) {
    const RateLimitOptions& l = runtime_.options.rate_limits[index];
    build_rate_key(l, route);
    ratelimit::Decision d = co_await decide(index);
    RateLimitCounters& counters = ctx_.rate_limits[index];
    if (!d.allowed) {
      counters.limited.fetch_add(1, std::memory_order_relaxed);
      trace_.rate_limit = "limited";
      co_return co_await send_rate_limited(l, d);
    }
    counters.allowed.fetch_add(1, std::memory_order_relaxed);
    if (l.headers && (!labelled || d.remaining < tightest.remaining)) {
      labelled = true;
      tightest = d;
      tightest_limit = &l;
    }
  }
  trace_.rate_limit = "allowed";
  if (labelled) append_rate_headers(response_extras_, *tightest_limit, tightest);
  co_return std::nullopt;
}

asio::awaitable<Next> Session::send_rate_limited(const RateLimitOptions& l,
                                                 const ratelimit::Decision& d) {
  in_.consume(request_scanner_.head_size());
  bool has_body = request_.framing != http::Framing::None;
  std::int64_t retry = std::max<std::int64_t>(1, ceil_seconds(d.retry_after_us));
  response_extras_.append("Retry-After: ");
  append_decimal(response_extras_, retry);
  response_extras_.append("\r\n");
  append_rate_headers(response_extras_, l, d);
  std::string detail = "rate limit \"" + l.name + "\" exceeded; retry in ";
  append_decimal(detail, retry);
  detail.append(" s");
  co_return co_await send_error(429, detail, has_body ? http::Close::Yes : http::Close::No);
}

}  // namespace pier::proxy
