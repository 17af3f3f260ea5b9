#include "config/loader.h"

#include <fmt/format.h>
#include <netdb.h>

#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "base/cpus.h"
#include "base/strings.h"
#include "config/yaml_reader.h"
#include "http/headers.h"

namespace pier::config {
namespace {

using proxy::ProxyOptions;
using upstream::ClusterOptions;

std::string at(const std::string& path, std::size_t index) {
  return fmt::format("{}[{}]", path, index);
}
std::string key(const std::string& path, const char* k) {
  return path + "." + k;
}

bool offline = false;  // offline_ForTest

// "127.0.0.1:8080", "[::1]:8080", "localhost:8080" -> endpoint (names resolved once, at load).
std::optional<asio::ip::tcp::endpoint> resolve(const std::string& text, std::string& why) {
  std::string host;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    std::size_t close = text.find("]:");
    if (close == std::string::npos) {
      why = "must be [ipv6]:port";
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    std::size_t colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      why = "must be host:port";
      return std::nullopt;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  auto port_number = parse_uint(port);
  if (!port_number || *port_number == 0 || *port_number > 65535) {
    why = "port must be from 1 to 65535";
    return std::nullopt;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  if (offline) hints.ai_flags = AI_NUMERICHOST;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0 || found == nullptr) {
    why = fmt::format("cannot resolve \"{}\": {}", host, gai_strerror(rc));
    return std::nullopt;
  }
  asio::ip::tcp::endpoint endpoint;
  std::memcpy(endpoint.data(), found->ai_addr, found->ai_addrlen);
  freeaddrinfo(found);
  return endpoint;
}

void read_endpoint(YamlReader& r, const YAML::Node& node, const std::string& path,
                   std::string& text, asio::ip::tcp::endpoint& endpoint) {
  if (!r.read(node, path, text)) return;
  std::string why;
  if (auto e = resolve(text, why)) {
    endpoint = *e;
  } else {
    r.error(node, path, why);
  }
}

void read_http(YamlReader& r, const YAML::Node& node, const std::string& path,
               proxy::HttpOptions& http) {
  if (!r.is_map(node, path)) return;
  r.only_keys(node, path,
              {"max_request_line", "max_header_bytes", "max_headers", "max_body",
               "request_head_timeout", "keepalive_timeout", "via", "splice"});
  auto size_in = [&](const char* k, std::uint64_t min, std::uint64_t max, auto& out) {
    r.optional(node, path, k, [&](const YAML::Node& n, const std::string& p) {
      std::uint64_t v = 0;
      if (!r.read_size(n, p, v)) return;
      if (v < min || v > max) {
        r.error(n, p, fmt::format("must be from {} to {} bytes", min, max));
        return;
      }
      out = v;
    });
  };
  size_in("max_request_line", 256, 1 << 20, http.max_request_line);
  size_in("max_header_bytes", 1024, 1 << 20, http.max_header_bytes);
  size_in("max_body", 0, 1ull << 50, http.max_body);
  r.optional(node, path, "max_headers", [&](const YAML::Node& n, const std::string& p) {
    std::int64_t v = 0;
    if (r.read_int(n, p, 1, 10000, v)) http.max_headers = static_cast<std::size_t>(v);
  });
  r.optional(node, path, "request_head_timeout", [&](const YAML::Node& n, const std::string& p) {
    r.read_duration(n, p, http.request_head_timeout);
  });
  r.optional(node, path, "keepalive_timeout", [&](const YAML::Node& n, const std::string& p) {
    r.read_duration(n, p, http.keepalive_timeout);
  });
  r.optional(node, path, "via", [&](const YAML::Node& n, const std::string& p) {
    if (r.read(n, p, http.via) && !http.via.empty() && !http::is_token(http.via)) {
      r.error(n, p, "must be a token (letters, digits, -._~ ...) or \"\"");
    }
  });
  r.optional(node, path, "splice",
             [&](const YAML::Node& n, const std::string& p) { r.read(n, p, http.splice); });
  if (http.max_request_line > http.max_header_bytes) {
    r.error(node, path, "max_request_line must not exceed max_header_bytes");
  }
}

void read_listeners(YamlReader& r, const YAML::Node& node, const std::string& path,
                    ProxyOptions& out) {
  if (!r.is_sequence(node, path)) return;
  if (node.size() == 0) r.error(node, path, "needs at least one listener");
  for (std::size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    std::string p = at(path, i);
    if (!r.is_map(item, p)) continue;
    r.only_keys(item, p, {"name", "address"});
    proxy::ListenerOptions listener;
    listener.name = fmt::format("listener{}", i);
    r.optional(item, p, "name",
               [&](const YAML::Node& n, const std::string& kp) { r.read(n, kp, listener.name); });
    if (YAML::Node a = item["address"]) {
      read_endpoint(r, a, key(p, "address"), listener.address, listener.endpoint);
    } else {
      r.error(item, p, "missing required key \"address\"");
    }
    out.listeners.push_back(std::move(listener));
  }
}

void read_backends(YamlReader& r, const YAML::Node& node, const std::string& path,
                   ClusterOptions& cluster) {
  if (!r.is_sequence(node, path)) return;
  if (node.size() == 0) r.error(node, path, "needs at least one backend");
  if (node.size() > balancing::kMaxBackends) {
    r.error(node, path, fmt::format("at most {} backends", balancing::kMaxBackends));
    return;
  }
  for (std::size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    std::string p = at(path, i);
    upstream::BackendOptions backend;
    if (item.IsScalar()) {  // "- 127.0.0.1:9001" is short for { address: ... }
      read_endpoint(r, item, p, backend.address, backend.endpoint);
      cluster.backends.push_back(std::move(backend));
      continue;
    }
    if (!r.is_map(item, p)) continue;
    r.only_keys(item, p, {"address", "weight"});
    if (YAML::Node a = item["address"]) {
      read_endpoint(r, a, key(p, "address"), backend.address, backend.endpoint);
    } else {
      r.error(item, p, "missing required key \"address\"");
    }
    r.optional(item, p, "weight", [&](const YAML::Node& n, const std::string& kp) {
      std::int64_t w = 1;
      if (r.read_int(n, kp, 1, 256, w)) backend.weight = static_cast<std::uint32_t>(w);
    });
    cluster.backends.push_back(std::move(backend));
  }
}

void read_pool(YamlReader& r, const YAML::Node& node, const std::string& path,
               upstream::PoolOptions& pool) {
  if (!r.is_map(node, path)) return;
  r.only_keys(node, path,
              {"max_idle", "idle_timeout", "max_connections", "queue_size", "queue_timeout"});
  auto count = [&](const char* k, std::int64_t min, std::int64_t max, std::size_t& out) {
    r.optional(node, path, k, [&](const YAML::Node& n, const std::string& p) {
      std::int64_t v = 0;
      if (r.read_int(n, p, min, max, v)) out = static_cast<std::size_t>(v);
    });
  };
  count("max_idle", 0, 100000, pool.max_idle);
  count("max_connections", 0, 1000000, pool.max_connections);
  count("queue_size", 0, 1000000, pool.queue_size);
  r.optional(node, path, "idle_timeout", [&](const YAML::Node& n, const std::string& p) {
    r.read_duration(n, p, pool.idle_timeout);
  });
  r.optional(node, path, "queue_timeout", [&](const YAML::Node& n, const std::string& p) {
    r.read_duration(n, p, pool.queue_timeout);
  });
}

void read_timeouts(YamlReader& r, const YAML::Node& node, const std::string& path,
                   upstream::TimeoutOptions& t) {
  if (!r.is_map(node, path)) return;
  r.only_keys(node, path, {"connect", "response_header", "idle", "total"});
  r.optional(node, path, "connect",
             [&](const YAML::Node& n, const std::string& p) { r.read_duration(n, p, t.connect); });
  r.optional(node, path, "response_header", [&](const YAML::Node& n, const std::string& p) {
    r.read_duration(n, p, t.response_header);
  });
  r.optional(node, path, "idle",
             [&](const YAML::Node& n, const std::string& p) { r.read_duration(n, p, t.idle); });
  r.optional(node, path, "total",
             [&](const YAML::Node& n, const std::string& p) { r.read_duration(n, p, t.total); });
}

void read_retry_on(YamlReader& r, const YAML::Node& node, const std::string& path,
                   upstream::RetryOptions& retry) {
  if (!r.is_sequence(node, path)) return;
  retry.on_connect_failure = retry.on_reset = retry.on_timeout = false;
  retry.on_statuses.clear();
  for (std::size_t i = 0; i < node.size(); ++i) {
    std::string item;
    if (!r.read(node[i], at(path, i), item)) continue;
    if (item == "connect_failure") {
      retry.on_connect_failure = true;
    } else if (item == "reset") {
      retry.on_reset = true;
    } else if (item == "timeout") {
      retry.on_timeout = true;
    } else if (auto status = parse_uint(item); status && *status >= 500 && *status <= 599) {
      retry.on_statuses.push_back(static_cast<int>(*status));
    } else {
      r.error(node[i], at(path, i),
              "must be connect_failure, reset, timeout or a status from 500 to 599");
    }
  }
}

void read_retry(YamlReader& r, const YAML::Node& node, const std::string& path,
                upstream::RetryOptions& retry) {
  if (!r.is_map(node, path)) return;
  r.only_keys(node, path,
              {"attempts", "on", "backoff", "budget", "min_retries_per_second", "idempotency_key"});
  r.optional(node, path, "attempts", [&](const YAML::Node& n, const std::string& p) {
    std::int64_t v = 0;
    if (r.read_int(n, p, 1, 10, v)) retry.attempts = static_cast<std::uint32_t>(v);
  });
  r.optional(node, path, "on",
             [&](const YAML::Node& n, const std::string& p) { read_retry_on(r, n, p, retry); });
  r.optional(node, path, "backoff", [&](const YAML::Node& n, const std::string& p) {
    std::string text;
    if (!r.read(n, p, text)) return;
    std::size_t dots = text.find("..");
    auto base = parse_duration(text.substr(0, dots));
    auto max = dots == std::string::npos ? base : parse_duration(text.substr(dots + 2));
    if (!base || !max || *max < *base) {
      r.error(n, p, "must be BASE..MAX such as 25ms..250ms (MAX >= BASE)");
      return;
    }
    retry.backoff_base = *base;
    retry.backoff_max = *max;
  });
  r.optional(node, path, "budget", [&](const YAML::Node& n, const std::string& p) {
    r.read_percent(n, p, retry.budget_ratio);
  });
  r.optional(node, path, "min_retries_per_second", [&](const YAML::Node& n, const std::string& p) {
    std::int64_t v = 0;
    if (r.read_int(n, p, 0, 100000, v))
      retry.min_retries_per_second = static_cast<std::uint32_t>(v);
  });
  r.optional(node, path, "idempotency_key", [&](const YAML::Node& n, const std::string& p) {
    r.read(n, p, retry.idempotency_key);
  });
}

void read_health(YamlReader& r, const YAML::Node& node, const std::string& path,
                 std::optional<upstream::HealthOptions>& out) {
  if (!r.is_map(node, path)) return;
  r.only_keys(node, path, {"path", "interval", "timeout", "rise", "fall", "expect_status"});
  upstream::HealthOptions h;
  r.optional(node, path, "path", [&](const YAML::Node& n, const std::string& p) {
    if (r.read(n, p, h.path) && (h.path.empty() || h.path.front() != '/' ||
                                 h.path.find_first_of(" \r\n") != std::string::npos)) {
      r.error(n, p, "must be a path starting with / and without spaces");
    }
  });
  r.optional(node, path, "interval",
             [&](const YAML::Node& n, const std::string& p) { r.read_duration(n, p, h.interval); });
  r.optional(node, path, "timeout",
             [&](const YAML::Node& n, const std::string& p) { r.read_duration(n, p, h.timeout); });
  auto count = [&](const char* k, std::uint32_t& out_count) {
    r.optional(node, path, k, [&](const YAML::Node& n, const std::string& p) {
      std::int64_t v = 0;
      if (r.read_int(n, p, 1, 100, v)) out_count = static_cast<std::uint32_t>(v);
    });
  };
  count("rise", h.rise);
  count("fall", h.fall);
  r.optional(node, path, "expect_status", [&](const YAML::Node& n, const std::string& p) {
    std::string text;
    if (!r.read(n, p, text)) return;
    std::size_t dots = text.find("..");
    auto lo = parse_uint(text.substr(0, dots));
    auto hi = dots == std::string::npos ? lo : parse_uint(text.substr(dots + 2));
    if (!lo || !hi || *lo < 100 || *hi > 599 || *hi < *lo) {
      r.error(n, p, "must be a status or a range such as 200..399");
      return;
    }
    h.expect_min = static_cast<int>(*lo);
    h.expect_max = static_cast<int>(*hi);
  });
  if (h.interval <= Duration::zero()) r.error(node, path, "interval must be above 0");
  if (h.timeout <= Duration::zero()) r.error(node, path, "timeout must be above 0");
  out = h;
}

void read_outlier(YamlReader& r, const YAML::Node& node, const std::string& path,
                  upstream::OutlierOptions& o) {
  if (!r.is_map(node, path)) return;
  r.only_keys(node, path,
              {"consecutive_failures", "base_ejection", "max_ejection", "max_ejection_percent"});
  r.optional(node, path, "consecutive_failures", [&](const YAML::Node& n, const std::string& p) {
    std::int64_t v = 0;
    if (r.read_int(n, p, 0, 1000000, v)) o.consecutive_failures = static_cast<std::uint32_t>(v);
  });
  r.optional(node, path, "base_ejection", [&](const YAML::Node& n, const std::string& p) {
    r.read_duration(n, p, o.base_ejection);
  });
  r.optional(node, path, "max_ejection", [&](const YAML::Node& n, const std::string& p) {
    r.read_duration(n, p, o.max_ejection);
  });
  r.optional(node, path, "max_ejection_percent", [&](const YAML::Node& n, const std::string& p) {
    // The key says "percent", so a bare 50 means 50% here.
    if (n.IsScalar() && !n.Scalar().ends_with("%")) {
      if (auto parsed = parse_percent(n.Scalar() + "%")) {
        o.max_ejection_percent = *parsed;
      } else {
        r.error(n, p, "must be a percentage from 0 to 100");
      }
      return;
    }
    r.read_percent(n, p, o.max_ejection_percent);
  });
}

void read_upstream(YamlReader& r, const YAML::Node& node, const std::string& path,
                   ClusterOptions& c) {
  if (!r.is_map(node, path)) return;
  r.only_keys(
      node, path,
      {"balance", "backends", "pool", "timeouts", "retry", "health", "outlier", "max_in_flight"});
  r.optional(node, path, "max_in_flight", [&](const YAML::Node& n, const std::string& p) {
    std::int64_t v = 0;
    if (r.read_int(n, p, 0, 10'000'000, v)) c.max_in_flight = static_cast<std::uint32_t>(v);
  });
  r.optional(node, path, "balance", [&](const YAML::Node& n, const std::string& p) {
    std::string name;
    if (!r.read(n, p, name)) return;
    if (auto a = balancing::algorithm_from_name(name)) {
      c.balance = *a;
    } else {
      r.error(n, p, "must be round_robin, least_connections or random");
    }
  });
  if (YAML::Node b = node["backends"]) {
    read_backends(r, b, key(path, "backends"), c);
  } else {
    r.error(node, path, "missing required key \"backends\"");
  }
  r.optional(node, path, "pool",
             [&](const YAML::Node& n, const std::string& p) { read_pool(r, n, p, c.pool); });
  r.optional(node, path, "timeouts", [&](const YAML::Node& n, const std::string& p) {
    read_timeouts(r, n, p, c.timeouts);
  });
  r.optional(node, path, "retry",
             [&](const YAML::Node& n, const std::string& p) { read_retry(r, n, p, c.retry); });
  r.optional(node, path, "health",
             [&](const YAML::Node& n, const std::string& p) { read_health(r, n, p, c.health); });
  r.optional(node, path, "outlier",
             [&](const YAML::Node& n, const std::string& p) { read_outlier(r, n, p, c.outlier); });
}

// The freshness settings a cache definition gives its routes and a route may override.
void read_policy_keys(YamlReader& r, const YAML::Node& node, const std::string& path,
                      cache::PolicyOptions& policy) {
  r.optional(node, path, "default_ttl", [&](const YAML::Node& n, const std::string& p) {
    Duration ttl{};
    if (r.read_duration(n, p, ttl)) {
      policy.default_ttl = std::chrono::duration_cast<std::chrono::seconds>(ttl).count();
    }
  });
  r.optional(node, path, "heuristic", [&](const YAML::Node& n, const std::string& p) {
    double fraction = 0;
    if (r.read_percent(n, p, fraction)) policy.heuristic_percent = static_cast<int>(fraction * 100);
  });
  r.optional(node, path, "store_set_cookie", [&](const YAML::Node& n, const std::string& p) {
    r.read(n, p, policy.store_set_cookie);
  });
}

void read_string_list(YamlReader& r, const YAML::Node& node, const std::string& path,
                      std::vector<std::string>& out) {
  if (!r.is_sequence(node, path)) return;
  for (std::size_t i = 0; i < node.size(); ++i) {
    std::string value;
    if (r.read(node[i], at(path, i), value)) out.push_back(std::move(value));
  }
}

void read_cidrs(YamlReader& r, const YAML::Node& node, const std::string& path, CidrSet& out) {
  if (!r.is_sequence(node, path)) return;
  for (std::size_t i = 0; i < node.size(); ++i) {
    std::string text;
    if (!r.read(node[i], at(path, i), text)) continue;
    if (auto cidr = Cidr::parse(text)) {
      out.add(*cidr);
    } else {
      r.error(node[i], at(path, i), "must be an address or CIDR such as 10.0.0.0/8");
    }
  }
}

void read_cache(YamlReader& r, const YAML::Node& node, const std::string& path,
                proxy::CacheOptions& c) {
  c.purge_allow.add(*Cidr::parse("127.0.0.0/8"));
  c.purge_allow.add(*Cidr::parse("::1/128"));
  if (!r.is_map(node, path)) return;
  r.only_keys(node, path,
              {"store", "max_bytes", "max_object", "default_ttl", "heuristic", "store_set_cookie",
               "lock_timeout", "key", "purge_allow", "prefix"});
  c.prefix = "pier:cache:" + c.name + ":";
  r.optional(node, path, "prefix",
             [&](const YAML::Node& n, const std::string& p) { r.read(n, p, c.prefix); });
  r.optional(node, path, "store", [&](const YAML::Node& n, const std::string& p) {
    std::string store;
    if (!r.read(n, p, store)) return;
    if (store == "memory") {
      c.store = proxy::CacheStore::Memory;
    } else if (store == "redis") {
      c.store = proxy::CacheStore::Redis;
    } else if (store == "tiered") {
      c.store = proxy::CacheStore::Tiered;
    } else {
      r.error(n, p, "must be memory, redis or tiered");
    }
  });
  auto size_in = [&](const char* k, std::uint64_t min, std::uint64_t& out) {
    r.optional(node, path, k, [&](const YAML::Node& n, const std::string& p) {
      std::uint64_t v = 0;
      if (!r.read_size(n, p, v)) return;
      if (v < min) {
        r.error(n, p, fmt::format("must be at least {} bytes", min));
        return;
      }
      out = v;
    });
  };
  size_in("max_bytes", 64 * 1024, c.max_bytes);
  size_in("max_object", 1, c.max_object);
  read_policy_keys(r, node, path, c.policy);
  r.optional(node, path, "lock_timeout", [&](const YAML::Node& n, const std::string& p) {
    r.read_duration(n, p, c.lock_timeout);
  });
  r.optional(node, path, "key", [&](const YAML::Node& k, const std::string& kp) {
    if (!r.is_map(k, kp)) return;
    r.only_keys(k, kp, {"ignore_query", "sort_query", "headers"});
    r.optional(k, kp, "ignore_query", [&](const YAML::Node& n, const std::string& p) {
      read_string_list(r, n, p, c.key.ignore_query);
    });
    r.optional(k, kp, "sort_query",
               [&](const YAML::Node& n, const std::string& p) { r.read(n, p, c.key.sort_query); });
    r.optional(k, kp, "headers", [&](const YAML::Node& n, const std::string& p) {
      read_string_list(r, n, p, c.key.headers);
      for (const std::string& h : c.key.headers) {
        if (!http::is_token(h)) r.error(n, p, fmt::format("\"{}\" is not a field name", h));
      }
    });
  });
  r.optional(node, path, "purge_allow", [&](const YAML::Node& n, const std::string& p) {
    c.purge_allow = CidrSet();
    read_cidrs(r, n, p, c.purge_allow);
  });
  if (c.max_object > c.max_bytes) r.error(node, path, "max_object must not exceed max_bytes");
}

// redis://[:password@]host:port[/db]
void read_redis(YamlReader& r, const YAML::Node& node, const std::string& path,
                redis::RedisOptions& out) {
  if (!r.is_map(node, path)) return;
  r.only_keys(node, path, {"url", "timeout", "connect_timeout"});
  r.optional(node, path, "timeout", [&](const YAML::Node& n, const std::string& p) {
    r.read_duration(n, p, out.timeout);
  });
  r.optional(node, path, "connect_timeout", [&](const YAML::Node& n, const std::string& p) {
    r.read_duration(n, p, out.connect_timeout);
  });
  YAML::Node url = node["url"];
  if (!url) {
    r.error(node, path, "missing required key \"url\"");
    return;
  }
  std::string p = key(path, "url");
  if (!r.read(url, p, out.url)) return;
  std::string rest = out.url;
  if (!rest.starts_with("redis://")) {
    r.error(url, p, "must be redis://[:password@]host:port[/db]");
    return;
  }
  rest = rest.substr(8);
  if (std::size_t at_sign = rest.rfind('@'); at_sign != std::string::npos) {
    std::string credentials = rest.substr(0, at_sign);
    out.password = credentials.starts_with(":") ? credentials.substr(1) : credentials;
    rest = rest.substr(at_sign + 1);
  }
  if (std::size_t slash = rest.find('/'); slash != std::string::npos) {
    auto db = parse_uint(rest.substr(slash + 1));
    if (!db || *db > 1000) {
      r.error(url, p, "the database after / must be a number");
      return;
    }
    out.db = static_cast<int>(*db);
    rest = rest.substr(0, slash);
  }
  std::string why;
  if (auto e = resolve(rest, why)) {
    out.endpoint = *e;
  } else {
    r.error(url, p, why);
  }
}

// "100/s", "6000/m", "10/h".
bool parse_rate(const std::string& text, std::int64_t& count, std::int64_t& period_us) {
  std::size_t slash = text.find('/');
  if (slash == std::string::npos) return false;
  auto n = parse_uint(text.substr(0, slash));
  std::string unit = text.substr(slash + 1);
  if (!n || *n == 0 || *n > 1'000'000'000) return false;
  if (unit == "s") {
    period_us = 1'000'000;
  } else if (unit == "m") {
    period_us = 60'000'000;
  } else if (unit == "h") {
    period_us = 3'600'000'000;
  } else {
    return false;
  }
  count = static_cast<std::int64_t>(*n);
  return true;
}

// client_ip, route, or header:NAME
bool parse_key_part(const std::string& text, proxy::RateKeyPart& part) {
  if (text == "client_ip") {
    part.kind = proxy::RateKeyPart::Kind::ClientIp;
  } else if (text == "route") {
    part.kind = proxy::RateKeyPart::Kind::Route;
  } else if (text.starts_with("header:") && http::is_token(text.substr(7))) {
    part.kind = proxy::RateKeyPart::Kind::Header;
    part.header = text.substr(7);
  } else {
    return false;
  }
  return true;
}

void read_rate_limit(YamlReader& r, const YAML::Node& node, const std::string& path,
                     proxy::RateLimitOptions& l) {
  if (!r.is_map(node, path)) return;
  r.only_keys(node, path,
              {"key", "rate", "burst", "store", "on_redis_error", "headers", "max_keys"});
  auto key_part = [&](const YAML::Node& n, const std::string& p) {
    std::string text;
    if (!r.read(n, p, text)) return;
    proxy::RateKeyPart part;
    if (parse_key_part(text, part)) {
      l.key.push_back(part);
    } else {
      r.error(n, p, "must be client_ip, route, or header:NAME");
    }
  };
  if (YAML::Node key = node["key"]; key && key.IsSequence()) {
    for (std::size_t i = 0; i < key.size(); ++i)
      key_part(key[i], at(path + ".key", i));
  } else if (key) {
    key_part(key, path + ".key");
  } else {
    l.key.push_back({});  // client_ip
  }
  YAML::Node rate = node["rate"];
  if (!rate) {
    r.error(node, path, "missing required key \"rate\" (such as 100/s or 6000/m)");
  } else {
    std::string text;
    if (r.read(rate, path + ".rate", text) && !parse_rate(text, l.count, l.period_us)) {
      r.error(rate, path + ".rate", "must be COUNT/s, COUNT/m or COUNT/h, such as 100/s");
    }
  }
  std::int64_t burst = l.count;  // default: one period's worth, capped below
  if (l.period_us > 1'000'000) burst = std::max<std::int64_t>(1, l.count * 1'000'000 / l.period_us);
  r.optional(node, path, "burst", [&](const YAML::Node& n, const std::string& p) {
    r.read_int(n, p, 1, 1'000'000'000, burst);
  });
  l.limit = ratelimit::make_limit(l.count, l.period_us, burst);
  r.optional(node, path, "store", [&](const YAML::Node& n, const std::string& p) {
    std::string store;
    if (!r.read(n, p, store)) return;
    if (store == "local" || store == "redis") {
      l.redis = store == "redis";
    } else {
      r.error(n, p, "must be local or redis");
    }
  });
  r.optional(node, path, "on_redis_error", [&](const YAML::Node& n, const std::string& p) {
    std::string policy;
    if (!r.read(n, p, policy)) return;
    if (policy == "local_fallback") {
      l.on_redis_error = proxy::OnRedisError::LocalFallback;
    } else if (policy == "allow") {
      l.on_redis_error = proxy::OnRedisError::Allow;
    } else if (policy == "deny") {
      l.on_redis_error = proxy::OnRedisError::Deny;
    } else {
      r.error(n, p, "must be local_fallback, allow or deny");
    }
  });
  r.optional(node, path, "headers",
             [&](const YAML::Node& n, const std::string& p) { r.read(n, p, l.headers); });
  r.optional(node, path, "max_keys", [&](const YAML::Node& n, const std::string& p) {
    std::int64_t v = 0;
    if (r.read_int(n, p, 64, 100'000'000, v)) l.max_keys = static_cast<std::size_t>(v);
  });
}

// `rate_limit: NAME` or `rate_limit: [NAME, ...]`: each applies, in order.
void read_route_rate_limits(YamlReader& r, const YAML::Node& node, const std::string& path,
                            const std::vector<proxy::RateLimitOptions>& limits,
                            proxy::RouteOptions& route) {
  auto one = [&](const YAML::Node& n, const std::string& p) {
    std::string name;
    if (!r.read(n, p, name)) return;
    for (std::size_t i = 0; i < limits.size(); ++i) {
      if (limits[i].name == name) {
        route.rate_limits.push_back(i);
        return;
      }
    }
    r.error(n, p, fmt::format("no rate limit named \"{}\" in rate_limits", name));
  };
  if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i)
      one(node[i], at(path, i));
  } else {
    one(node, path);
  }
}

// `cache: NAME`, or `cache: { name: NAME, default_ttl: 30s, ... }` to override its policy.
void read_route_cache(YamlReader& r, const YAML::Node& node, const std::string& path,
                      const std::vector<proxy::CacheOptions>& caches, proxy::RouteOptions& route) {
  // Not one YAML::Node rebound to the name: assigning to a yaml-cpp Node overwrites the node it
  // refers to, so `node` itself would become the name.
  const bool is_map = node.IsMap();
  const YAML::Node name_node = is_map ? node["name"] : node;
  std::string name;
  if (is_map) {
    r.only_keys(node, path, {"name", "default_ttl", "heuristic", "store_set_cookie"});
    if (!name_node) {
      r.error(node, path, "missing required key \"name\"");
      return;
    }
    if (!r.read(name_node, key(path, "name"), name)) return;
  } else if (!r.read(node, path, name)) {
    return;
  }
  for (std::size_t i = 0; i < caches.size(); ++i) {
    if (caches[i].name != name) continue;
    route.cache_index = i;
    route.cache_policy = caches[i].policy;
    if (is_map) read_policy_keys(r, node, path, route.cache_policy);
    return;
  }
  r.error(name_node, path, fmt::format("no cache named \"{}\" in caches", name));
}

void read_route(YamlReader& r, const YAML::Node& node, const std::string& path,
                const std::map<std::string, std::size_t>& clusters, const ProxyOptions& out,
                proxy::RouteOptions& route) {
  if (!r.is_map(node, path)) return;
  r.only_keys(node, path, {"match", "upstream", "cache", "rate_limit", "access_log"});
  r.optional(node, path, "access_log",
             [&](const YAML::Node& n, const std::string& p) { r.read(n, p, route.access_log); });
  const auto& caches = out.caches;
  r.optional(node, path, "rate_limit", [&](const YAML::Node& n, const std::string& p) {
    read_route_rate_limits(r, n, p, out.rate_limits, route);
  });
  r.optional(node, path, "cache", [&](const YAML::Node& n, const std::string& p) {
    read_route_cache(r, n, p, caches, route);
  });
  r.optional(node, path, "match", [&](const YAML::Node& m, const std::string& mp) {
    if (!r.is_map(m, mp)) return;
    r.only_keys(m, mp, {"host", "path_prefix"});
    r.optional(m, mp, "host", [&](const YAML::Node& n, const std::string& p) {
      std::string host;
      if (!r.read(n, p, host)) return;
      for (char& ch : host)
        ch = ascii_lower(ch);
      if (host == "*") {
        route.host_kind = proxy::HostMatchKind::Any;
      } else if (host.starts_with("*.") && host.size() > 2) {
        route.host_kind = proxy::HostMatchKind::Suffix;
        route.host = host.substr(1);
      } else if (!host.empty() && host.find('*') == std::string::npos) {
        route.host_kind = proxy::HostMatchKind::Exact;
        route.host = host;
      } else {
        r.error(n, p, "must be \"*\", an exact host, or \"*.suffix\"");
      }
    });
    r.optional(m, mp, "path_prefix", [&](const YAML::Node& n, const std::string& p) {
      if (r.read(n, p, route.path_prefix) && !route.path_prefix.starts_with("/")) {
        r.error(n, p, "must start with /");
      }
    });
  });
  if (YAML::Node u = node["upstream"]) {
    if (r.read(u, key(path, "upstream"), route.upstream)) {
      auto it = clusters.find(route.upstream);
      if (it == clusters.end()) {
        r.error(u, key(path, "upstream"),
                fmt::format("no upstream named \"{}\" in upstreams", route.upstream));
      } else {
        route.cluster_index = it->second;
      }
    }
  } else {
    r.error(node, path, "missing required key \"upstream\"");
  }
}

// The admin listener: off with `admin: { enabled: false }`. A token is required to bind anything
// but loopback, so that metrics and purges are never open to the world by accident, unless
// `public_reads: true` says so explicitly (POST then stays refused without a token).
void read_admin(YamlReader& r, const YAML::Node& node, const std::string& path,
                proxy::AdminOptions& admin) {
  if (!r.is_map(node, path)) return;
  r.only_keys(node, path, {"address", "token_file", "enabled", "public_reads"});
  r.optional(node, path, "enabled",
             [&](const YAML::Node& n, const std::string& p) { r.read(n, p, admin.enabled); });
  r.optional(node, path, "public_reads",
             [&](const YAML::Node& n, const std::string& p) { r.read(n, p, admin.public_reads); });
  r.optional(node, path, "address", [&](const YAML::Node& n, const std::string& p) {
    read_endpoint(r, n, p, admin.address, admin.endpoint);
    admin.configured = true;
  });
  r.optional(node, path, "token_file", [&](const YAML::Node& n, const std::string& p) {
    if (!r.read(n, p, admin.token_file)) return;
    if (offline) {
      r.error(n, p, "no files are read here (offline_ForTest)");
      return;
    }
    std::ifstream in(admin.token_file);
    std::stringstream text;
    text << in.rdbuf();
    admin.token = std::string(trim_ows(text.str()));
    while (!admin.token.empty() && (admin.token.back() == '\n' || admin.token.back() == '\r')) {
      admin.token.pop_back();
    }
    if (!in) {
      r.error(n, p, fmt::format("cannot read \"{}\"", admin.token_file));
    } else if (admin.token.size() < 16) {
      r.error(n, p, "the token must be at least 16 characters");
    }
  });
  if (admin.enabled && !admin.endpoint.address().is_loopback() && admin.token.empty() &&
      !admin.public_reads) {
    r.error(node, path,
            fmt::format("address {} is not loopback: set token_file (a bearer token of 16+ "
                        "characters) or public_reads: true to expose the admin API",
                        admin.address));
  }
}

void read_top(YamlReader& r, const YAML::Node& root, ProxyOptions& out) {
  if (!r.is_map(root, "")) return;
  r.only_keys(root, "",
              {"workers", "shutdown_timeout", "trusted_proxies", "http", "listeners", "upstreams",
               "routes", "caches", "redis", "rate_limits", "access_log", "admin"});
  r.optional(root, "", "access_log", [&](const YAML::Node& n, const std::string& p) {
    if (!r.is_map(n, p)) return;
    r.only_keys(n, p, {"path", "format"});
    proxy::AccessLogOptions log;
    r.optional(n, p, "path", [&](const YAML::Node& v, const std::string& vp) {
      if (r.read(v, vp, log.path) && log.path.empty()) r.error(v, vp, "must not be empty");
    });
    r.optional(n, p, "format", [&](const YAML::Node& v, const std::string& vp) {
      std::string format;
      if (!r.read(v, vp, format)) return;
      if (format != "json" && format != "combined") r.error(v, vp, "must be json or combined");
      log.combined = format == "combined";
    });
    out.access_log = log;
  });
  r.optional(root, "", "admin",
             [&](const YAML::Node& n, const std::string& p) { read_admin(r, n, p, out.admin); });
  r.optional(root, "", "workers", [&](const YAML::Node& n, const std::string& p) {
    if (n.IsScalar() && n.Scalar() == "auto") {
      out.workers = usable_cpus();
      return;
    }
    std::int64_t v = 0;
    if (r.read_int(n, p, 1, 256, v)) out.workers = static_cast<std::size_t>(v);
  });
  r.optional(root, "", "shutdown_timeout", [&](const YAML::Node& n, const std::string& p) {
    r.read_duration(n, p, out.shutdown_timeout);
  });
  r.optional(root, "", "trusted_proxies", [&](const YAML::Node& n, const std::string& p) {
    read_cidrs(r, n, p, out.trusted_proxies);
  });
  r.optional(root, "", "http",
             [&](const YAML::Node& n, const std::string& p) { read_http(r, n, p, out.http); });
  if (YAML::Node l = root["listeners"]) {
    read_listeners(r, l, "listeners", out);
  } else {
    r.error(root, "", "missing required key \"listeners\"");
  }
  std::map<std::string, std::size_t> clusters;
  if (YAML::Node u = root["upstreams"]; u && r.is_map(u, "upstreams")) {
    for (const auto& entry : u) {
      ClusterOptions c;
      c.name = entry.first.Scalar();
      read_upstream(r, entry.second, "upstreams." + c.name, c);
      clusters[c.name] = out.upstreams.size();
      out.upstreams.push_back(std::move(c));
    }
  } else if (!u) {
    r.error(root, "", "missing required key \"upstreams\"");
  }
  if (YAML::Node caches = root["caches"]; caches && r.is_map(caches, "caches")) {
    for (const auto& entry : caches) {
      proxy::CacheOptions c;
      c.name = entry.first.Scalar();
      read_cache(r, entry.second, "caches." + c.name, c);
      out.caches.push_back(std::move(c));
    }
  }
  if (YAML::Node limits = root["rate_limits"]; limits && r.is_map(limits, "rate_limits")) {
    for (const auto& entry : limits) {
      proxy::RateLimitOptions l;
      l.name = entry.first.Scalar();
      read_rate_limit(r, entry.second, "rate_limits." + l.name, l);
      out.rate_limits.push_back(std::move(l));
    }
  }
  r.optional(root, "", "redis", [&](const YAML::Node& n, const std::string& p) {
    out.redis.emplace();
    read_redis(r, n, p, *out.redis);
  });
  if (!out.redis) {
    for (const auto& l : out.rate_limits) {
      if (l.redis) {
        r.error(root["rate_limits"][l.name]["store"], "rate_limits." + l.name + ".store",
                "needs a top-level redis: { url: redis://host:port }");
      }
    }
    for (std::size_t i = 0; i < out.caches.size(); ++i) {
      if (out.caches[i].uses_redis()) {
        r.error(root["caches"][out.caches[i].name]["store"],
                "caches." + out.caches[i].name + ".store",
                "needs a top-level redis: { url: redis://host:port }");
      }
    }
  }
  if (YAML::Node routes = root["routes"]; routes && r.is_sequence(routes, "routes")) {
    if (routes.size() == 0) r.error(routes, "routes", "needs at least one route");
    for (std::size_t i = 0; i < routes.size(); ++i) {
      proxy::RouteOptions route;
      route.index = i;
      read_route(r, routes[i], at("routes", i), clusters, out, route);
      out.routes.push_back(std::move(route));
    }
  } else if (!routes) {
    r.error(root, "", "missing required key \"routes\"");
  }
}

}  // namespace

LoadResult load_text(const std::string& text, const std::string& file_name) {
  YamlReader reader(file_name);
  LoadResult result;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    reader.error_at(e.mark.line + 1, e.mark.column + 1, "YAML syntax: " + e.msg);
    result.errors = reader.errors();
    return result;
  }
  ProxyOptions options;
  try {
    read_top(reader, root, options);
  } catch (const YAML::Exception& e) {
    reader.error_at(e.mark.line + 1, e.mark.column + 1, e.msg);
  }
  result.errors = reader.errors();
  if (result.errors.empty()) result.options = std::move(options);
  return result;
}

namespace {

std::optional<std::string> read_whole_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

LoadResult load_file(const std::string& path) {
  std::optional<std::string> text = read_whole_file(path);
  if (!text) return {std::nullopt, {path + ": cannot open the file"}};
  return load_text(*text, path);
}

AdminLoadResult load_admin_file(const std::string& path) {
  std::optional<std::string> text = read_whole_file(path);
  if (!text) return {std::nullopt, {path + ": cannot open the file"}};
  YamlReader reader(path);
  proxy::AdminOptions admin;
  try {
    YAML::Node root = YAML::Load(*text);
    if (root.IsMap() && root["admin"]) read_admin(reader, root["admin"], "admin", admin);
  } catch (const YAML::Exception& e) {
    reader.error_at(e.mark.line + 1, e.mark.column + 1, e.msg);
  }
  if (!reader.errors().empty()) return {std::nullopt, reader.errors()};
  return {admin, {}};
}

void offline_ForTest(bool on) {
  offline = on;
}

}  // namespace pier::config
