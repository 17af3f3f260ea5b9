// Typed options of the proxy as a whole, filled and validated by config/.
#pragma once

#include <asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/cidr.h"
#include "base/units.h"
#include "cache/key.h"
#include "cache/policy.h"
#include "ratelimit/gcra.h"
#include "redis/options.h"
#include "upstream/options.h"

namespace pier::proxy {

using namespace std::chrono_literals;

struct HttpOptions {
  std::size_t max_request_line = 8 * 1024;   // -> 414
  std::size_t max_header_bytes = 16 * 1024;  // -> 431; also the size of each I/O buffer
  std::size_t max_headers = 100;             // -> 431
  std::uint64_t max_body = 1ull << 30;       // -> 413
  Duration request_head_timeout = 10s;       // -> 408
  Duration keepalive_timeout = 60s;
  std::string via = "pier";  // "" = no Via header
  // The rest of a large Content-Length body (a request's, or a response's that is not being
  // stored) moves socket to socket through a pipe (splice(2)) instead of through user space.
  bool splice = true;
};

struct ListenerOptions {
  std::string name;
  std::string address;  // as written, for logs
  asio::ip::tcp::endpoint endpoint;
};

enum class HostMatchKind { Any, Exact, Suffix };

// memory: in this process; redis: in the Redis that the fleet shares; tiered: memory in front of
// Redis.
enum class CacheStore { Memory, Redis, Tiered };

// A named cache (config `caches:`), referenced by routes.
struct CacheOptions {
  std::string name;
  CacheStore store = CacheStore::Memory;
  std::uint64_t max_bytes = 256ull << 20;
  std::uint64_t max_object = 8ull << 20;  // a larger response streams through, not stored
  cache::PolicyOptions policy;            // defaults for the routes that use this cache
  cache::KeyOptions key;
  Duration lock_timeout = 5s;  // a coalesced miss waits this long for the leader's response
  CidrSet purge_allow;         // who may send PURGE; loopback unless configured
  std::string prefix;          // Redis key prefix; "pier:cache:<name>:" unless configured

  bool uses_memory() const { return store != CacheStore::Redis; }
  bool uses_redis() const { return store != CacheStore::Memory; }
};

// A named rate limit (config `rate_limits:`), referenced by routes.
struct RateKeyPart {
  enum class Kind { ClientIp, Header, Route };
  Kind kind = Kind::ClientIp;
  std::string header;  // Kind::Header: the request field whose value is the key
};
enum class OnRedisError { LocalFallback, Allow, Deny };
struct RateLimitOptions {
  std::string name;
  std::vector<RateKeyPart> key;  // several parts: one bucket per combination
  std::int64_t count = 100;      // `count` requests per `period_us`
  std::int64_t period_us = 1'000'000;
  ratelimit::Limit limit;
  bool redis = false;  // store: redis (the fleet shares each bucket) or local
  OnRedisError on_redis_error = OnRedisError::LocalFallback;
  bool headers = false;  // RateLimit headers on allowed responses too (429s always have them)
  std::size_t max_keys = 100'000;  // local buckets kept at most (per limit, per process)
};

struct RouteOptions {
  HostMatchKind host_kind = HostMatchKind::Any;
  std::string host;  // lower case; for Suffix the part after "*", e.g. ".example.com"
  std::string path_prefix = "/";
  std::string upstream;  // cluster name
  std::size_t cluster_index = 0;
  std::optional<std::size_t> cache_index;  // index into ProxyOptions::caches
  cache::PolicyOptions cache_policy;       // the cache's policy, with this route's overrides
  std::vector<std::size_t> rate_limits;    // indexes into ProxyOptions::rate_limits, in order
  std::size_t index = 0;                   // this route's place in the config (a rate-limit key)
  bool access_log = true;                  // false: this route's requests are not logged
};

// Config `access_log:`; absent = no access log.
struct AccessLogOptions {
  std::string path = "stdout";  // stdout, stderr or a file
  bool combined = false;        // the combined log format instead of JSON lines
};

// Config `admin:`: the admin listener (metrics, JSON API, dashboard).
struct AdminOptions {
  std::string address = "127.0.0.1:9901";
  asio::ip::tcp::endpoint endpoint{asio::ip::make_address("127.0.0.1"), 9901};
  std::string token_file;  // bearer token for POST (and for any non-loopback address)
  std::string token;       // read from token_file at load
  bool enabled = true;
  bool configured = false;  // the address was set in the config (a bind failure is then fatal)
  // GETs need no token on any address (POST still does): for a port that only trusted peers
  // reach, such as a container's admin port published on the host's 127.0.0.1.
  bool public_reads = false;
};

struct ProxyOptions {
  std::size_t workers = 1;
  Duration shutdown_timeout = 10s;
  CidrSet trusted_proxies;
  HttpOptions http;
  std::vector<ListenerOptions> listeners;
  std::vector<upstream::ClusterOptions> upstreams;
  std::vector<RouteOptions> routes;
  std::vector<CacheOptions> caches;
  std::vector<RateLimitOptions> rate_limits;
  std::optional<redis::RedisOptions> redis;  // needed by redis and tiered caches
  std::optional<AccessLogOptions> access_log;
  AdminOptions admin;
};

}  // namespace pier::proxy
