#include "config/loader.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace pier::config {
namespace {

using namespace std::chrono_literals;

// Joins lines with '\n' so that a test can show, and count, the line numbers it expects.
std::string yaml(std::initializer_list<const char*> lines) {
  std::string out;
  for (const char* line : lines)
    out.append(line).append("\n");
  return out;
}

std::vector<std::string> errors_of(const std::string& text) {
  LoadResult result = load_text(text, "pier.yaml");
  EXPECT_FALSE(result.options.has_value()) << "expected errors, the config was accepted";
  return result.errors;
}

// The smallest valid config: everything else has a default.
const char* const kMinimal[] = {
    "listeners:",                   // 1
    "  - address: 127.0.0.1:8080",  // 2
    "upstreams:",                   // 3
    "  app:",                       // 4
    "    backends:",                // 5
    "      - 127.0.0.1:9001",       // 6
    "routes:",                      // 7
    "  - upstream: app",            // 8
};

TEST(LoadText, MinimalConfigGetsDefaults) {
  std::string text;
  for (const char* line : kMinimal)
    text.append(line).append("\n");
  LoadResult result = load_text(text, "pier.yaml");
  ASSERT_TRUE(result.errors.empty()) << result.errors.front();
  ASSERT_TRUE(result.options.has_value());
  const proxy::ProxyOptions& o = *result.options;
  EXPECT_EQ(o.workers, 1u);
  ASSERT_EQ(o.listeners.size(), 1u);
  EXPECT_EQ(o.listeners[0].name, "listener0");
  EXPECT_EQ(o.listeners[0].endpoint.port(), 8080);
  ASSERT_EQ(o.upstreams.size(), 1u);
  EXPECT_EQ(o.upstreams[0].name, "app");
  EXPECT_EQ(o.upstreams[0].balance, balancing::Algorithm::RoundRobin);
  ASSERT_EQ(o.upstreams[0].backends.size(), 1u);
  EXPECT_EQ(o.upstreams[0].backends[0].address, "127.0.0.1:9001");
  EXPECT_EQ(o.upstreams[0].backends[0].weight, 1u);
  EXPECT_FALSE(o.upstreams[0].health.has_value());
  ASSERT_EQ(o.routes.size(), 1u);
  EXPECT_EQ(o.routes[0].host_kind, proxy::HostMatchKind::Any);
  EXPECT_EQ(o.routes[0].path_prefix, "/");
  EXPECT_TRUE(o.trusted_proxies.empty());
}

TEST(LoadText, FullConfigFillsEveryOption) {
  std::string text = yaml({
      "workers: 3",
      "shutdown_timeout: 7s",
      "trusted_proxies: [10.0.0.0/8, 192.168.1.1]",
      "http:",
      "  max_request_line: 4KiB",
      "  max_header_bytes: 32KiB",
      "  max_headers: 50",
      "  max_body: 10MiB",
      "  request_head_timeout: 3s",
      "  keepalive_timeout: 1m",
      "  via: edge-1",
      "  splice: false",
      "listeners:",
      "  - name: public",
      "    address: 127.0.0.1:8080",
      "  - address: '[::1]:8081'",
      "upstreams:",
      "  app:",
      "    balance: least_connections",
      "    backends:",
      "      - { address: 127.0.0.1:9001, weight: 5 }",
      "      - 127.0.0.1:9002",
      "    pool: { max_idle: 8, idle_timeout: 30s, max_connections: 100, queue_size: 10,",
      "            queue_timeout: 500ms }",
      "    timeouts: { connect: 250ms, response_header: 5s, idle: 20s, total: 1m }",
      "    retry:",
      "      attempts: 4",
      "      on: [reset, timeout, 503]",
      "      backoff: 10ms..1s",
      "      budget: 15%",
      "      min_retries_per_second: 7",
      "      idempotency_key: true",
      "    health: { path: /ready, interval: 1s, timeout: 200ms, rise: 3, fall: 4,",
      "              expect_status: 200..299 }",
      "    outlier: { consecutive_failures: 9, base_ejection: 5s, max_ejection: 2m,",
      "               max_ejection_percent: 25% }",
      "  static:",
      "    balance: random",
      "    backends: [127.0.0.1:9100]",
      "routes:",
      "  - match: { host: '*.Example.com', path_prefix: /static/ }",
      "    upstream: static",
      "  - match: { host: api.example.com }",
      "    upstream: app",
      "  - upstream: app",
  });
  LoadResult result = load_text(text, "pier.yaml");
  ASSERT_TRUE(result.errors.empty()) << result.errors.front();
  ASSERT_TRUE(result.options.has_value());
  const proxy::ProxyOptions& o = *result.options;

  EXPECT_EQ(o.workers, 3u);
  EXPECT_EQ(o.shutdown_timeout, 7s);
  EXPECT_TRUE(o.trusted_proxies.contains(*parse_ip("10.1.2.3")));
  EXPECT_TRUE(o.trusted_proxies.contains(*parse_ip("192.168.1.1")));
  EXPECT_FALSE(o.trusted_proxies.contains(*parse_ip("192.168.1.2")));

  EXPECT_EQ(o.http.max_request_line, 4096u);
  EXPECT_EQ(o.http.max_header_bytes, 32768u);
  EXPECT_EQ(o.http.max_headers, 50u);
  EXPECT_EQ(o.http.max_body, 10u << 20);
  EXPECT_EQ(o.http.request_head_timeout, 3s);
  EXPECT_EQ(o.http.keepalive_timeout, 60s);
  EXPECT_EQ(o.http.via, "edge-1");
  EXPECT_FALSE(o.http.splice);

  ASSERT_EQ(o.listeners.size(), 2u);
  EXPECT_EQ(o.listeners[0].name, "public");
  EXPECT_EQ(o.listeners[0].address, "127.0.0.1:8080");
  EXPECT_EQ(o.listeners[0].endpoint.port(), 8080);
  EXPECT_EQ(o.listeners[1].name, "listener1");
  EXPECT_TRUE(o.listeners[1].endpoint.address().is_v6());
  EXPECT_EQ(o.listeners[1].endpoint.port(), 8081);

  ASSERT_EQ(o.upstreams.size(), 2u);
  const upstream::ClusterOptions* app = nullptr;
  const upstream::ClusterOptions* stat = nullptr;
  for (const auto& c : o.upstreams)
    (c.name == "app" ? app : stat) = &c;
  ASSERT_NE(app, nullptr);
  ASSERT_NE(stat, nullptr);
  EXPECT_EQ(stat->name, "static");

  EXPECT_EQ(app->balance, balancing::Algorithm::LeastConnections);
  ASSERT_EQ(app->backends.size(), 2u);
  EXPECT_EQ(app->backends[0].weight, 5u);
  EXPECT_EQ(app->backends[0].endpoint.port(), 9001);
  EXPECT_EQ(app->backends[1].weight, 1u);
  EXPECT_EQ(app->backends[1].address, "127.0.0.1:9002");
  EXPECT_EQ(app->pool.max_idle, 8u);
  EXPECT_EQ(app->pool.idle_timeout, 30s);
  EXPECT_EQ(app->pool.max_connections, 100u);
  EXPECT_EQ(app->pool.queue_size, 10u);
  EXPECT_EQ(app->pool.queue_timeout, 500ms);
  EXPECT_EQ(app->timeouts.connect, 250ms);
  EXPECT_EQ(app->timeouts.response_header, 5s);
  EXPECT_EQ(app->timeouts.idle, 20s);
  EXPECT_EQ(app->timeouts.total, 60s);
  EXPECT_EQ(app->retry.attempts, 4u);
  EXPECT_FALSE(app->retry.on_connect_failure);
  EXPECT_TRUE(app->retry.on_reset);
  EXPECT_TRUE(app->retry.on_timeout);
  EXPECT_EQ(app->retry.on_statuses, (std::vector<int>{503}));
  EXPECT_EQ(app->retry.backoff_base, 10ms);
  EXPECT_EQ(app->retry.backoff_max, 1s);
  EXPECT_DOUBLE_EQ(app->retry.budget_ratio, 0.15);
  EXPECT_EQ(app->retry.min_retries_per_second, 7u);
  EXPECT_TRUE(app->retry.idempotency_key);
  ASSERT_TRUE(app->health.has_value());
  EXPECT_EQ(app->health->path, "/ready");
  EXPECT_EQ(app->health->interval, 1s);
  EXPECT_EQ(app->health->timeout, 200ms);
  EXPECT_EQ(app->health->rise, 3u);
  EXPECT_EQ(app->health->fall, 4u);
  EXPECT_EQ(app->health->expect_min, 200);
  EXPECT_EQ(app->health->expect_max, 299);
  EXPECT_EQ(app->outlier.consecutive_failures, 9u);
  EXPECT_EQ(app->outlier.base_ejection, 5s);
  EXPECT_EQ(app->outlier.max_ejection, 120s);
  EXPECT_DOUBLE_EQ(app->outlier.max_ejection_percent, 0.25);

  EXPECT_EQ(stat->balance, balancing::Algorithm::Random);
  ASSERT_EQ(stat->backends.size(), 1u);

  ASSERT_EQ(o.routes.size(), 3u);
  EXPECT_EQ(o.routes[0].host_kind, proxy::HostMatchKind::Suffix);
  EXPECT_EQ(o.routes[0].host, ".example.com");
  EXPECT_EQ(o.routes[0].path_prefix, "/static/");
  EXPECT_EQ(o.routes[0].upstream, "static");
  EXPECT_EQ(&o.upstreams[o.routes[0].cluster_index], stat);
  EXPECT_EQ(o.routes[1].host_kind, proxy::HostMatchKind::Exact);
  EXPECT_EQ(o.routes[1].host, "api.example.com");
  EXPECT_EQ(&o.upstreams[o.routes[1].cluster_index], app);
  EXPECT_EQ(o.routes[2].host_kind, proxy::HostMatchKind::Any);
  EXPECT_EQ(&o.upstreams[o.routes[2].cluster_index], app);
}

TEST(LoadText, UnknownTopLevelKeyIsReportedAtItsPosition) {
  std::string text = yaml({"listeners:", "  - address: 127.0.0.1:8080", "wrokers: 2",
                           "upstreams:", "  app:", "    backends: [127.0.0.1:9001]",
                           "routes:", "  - upstream: app"});
  std::vector<std::string> errors = errors_of(text);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0],
            "pier.yaml:3:1: wrokers: unknown key (expected one of: workers, shutdown_timeout, "
            "trusted_proxies, http, listeners, upstreams, routes, caches, redis, rate_limits, "
            "access_log, admin)");
}

TEST(LoadText, UnknownNestedKeysAreReportedWithTheirPath) {
  std::string text = yaml({
      "listeners:",                              // 1
      "  - address: 127.0.0.1:8080",             // 2
      "    nmae: public",                        // 3
      "upstreams:",                              // 4
      "  app:",                                  // 5
      "    backends:",                           // 6
      "      - address: 127.0.0.1:9001",         // 7
      "        wieght: 2",                       // 8
      "    retry: { attempts: 2, jitter: on }",  // 9
      "routes:",                                 // 10
      "  - upstream: app",                       // 11
      "    match: { hots: a.test }",             // 12
  });
  std::vector<std::string> errors = errors_of(text);
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[0],
            "pier.yaml:3:5: listeners[0].nmae: unknown key (expected one of: name, address)");
  EXPECT_EQ(errors[1],
            "pier.yaml:8:9: upstreams.app.backends[0].wieght: unknown key (expected one of: "
            "address, weight)");
  EXPECT_EQ(errors[2],
            "pier.yaml:9:27: upstreams.app.retry.jitter: unknown key (expected one of: attempts, "
            "on, backoff, budget, min_retries_per_second, idempotency_key)");
  EXPECT_EQ(errors[3],
            "pier.yaml:12:14: routes[0].match.hots: unknown key (expected one of: host, "
            "path_prefix)");
}

TEST(LoadText, BadWeightIsReportedAtTheValue) {
  std::string text = yaml({
      "listeners:",                                      // 1
      "  - address: 127.0.0.1:8080",                     // 2
      "upstreams:",                                      // 3
      "  app:",                                          // 4
      "    backends:",                                   // 5
      "      - 127.0.0.1:9001",                          // 6
      "      - { address: 127.0.0.1:9002, weight: 0 }",  // 7
      "      - address: 127.0.0.1:9003",                 // 8
      "        weight: heavy",                           // 9
      "routes:",                                         // 10
      "  - upstream: app",                               // 11
  });
  std::vector<std::string> errors = errors_of(text);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0],
            "pier.yaml:7:44: upstreams.app.backends[1].weight: must be an integer from 1 to 256");
  EXPECT_EQ(errors[1],
            "pier.yaml:9:17: upstreams.app.backends[2].weight: must be an integer from 1 to 256");
}

TEST(LoadText, BadDurationIsReportedAtTheValue) {
  std::string text = yaml({
      "shutdown_timeout: 10",            // 1: no unit
      "listeners:",                      // 2
      "  - address: 127.0.0.1:8080",     // 3
      "upstreams:",                      // 4
      "  app:",                          // 5
      "    backends: [127.0.0.1:9001]",  // 6
      "    timeouts:",                   // 7
      "      connect: 1 sec",            // 8
      "routes:",                         // 9
      "  - upstream: app",               // 10
  });
  std::vector<std::string> errors = errors_of(text);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0],
            "pier.yaml:1:19: shutdown_timeout: \"10\" is not a duration (use a unit: 250ms, 2s, "
            "1m, 1h)");
  EXPECT_EQ(errors[1],
            "pier.yaml:8:16: upstreams.app.timeouts.connect: \"1 sec\" is not a duration (use a "
            "unit: 250ms, 2s, 1m, 1h)");
}

TEST(LoadText, UnknownUpstreamInARouteIsReported) {
  std::string text = yaml({
      "listeners:",                      // 1
      "  - address: 127.0.0.1:8080",     // 2
      "upstreams:",                      // 3
      "  app:",                          // 4
      "    backends: [127.0.0.1:9001]",  // 5
      "routes:",                         // 6
      "  - upstream: app",               // 7
      "  - match: { path_prefix: /x }",  // 8
      "    upstream: ap",                // 9
  });
  std::vector<std::string> errors = errors_of(text);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "pier.yaml:9:15: routes[1].upstream: no upstream named \"ap\" in upstreams");
}

TEST(LoadText, MissingListenersIsReported) {
  std::string text = yaml(
      {"upstreams:", "  app:", "    backends: [127.0.0.1:9001]", "routes:", "  - upstream: app"});
  std::vector<std::string> errors = errors_of(text);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "pier.yaml:1:1: (top level): missing required key \"listeners\"");
}

TEST(LoadText, EmptyListenersAreReported) {
  std::string text =
      yaml({"listeners: []", "upstreams:", "  app:", "    backends: [127.0.0.1:9001]",
            "routes:", "  - upstream: app"});
  std::vector<std::string> errors = errors_of(text);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "pier.yaml:1:12: listeners: needs at least one listener");
}

TEST(LoadText, SeveralErrorsAreReportedAtOnceInFileOrder) {
  std::string text = yaml({
      "workers: 0",                                        // 1
      "listeners:",                                        // 2
      "  - address: 127.0.0.1:99999",                      // 3
      "upstreams:",                                        // 4
      "  app:",                                            // 5
      "    balance: fastest",                              // 6
      "    backends:",                                     // 7
      "      - { address: 127.0.0.1:9001, weight: 300 }",  // 8
      "    retry: { backoff: 1s..10ms }",                  // 9
      "    health: { interval: soon }",                    // 10
      "routes:",                                           // 11
      "  - upstream: nowhere",                             // 12
  });
  std::vector<std::string> errors = errors_of(text);
  std::vector<std::string> expected = {
      "pier.yaml:1:10: workers: must be an integer from 1 to 256",
      "pier.yaml:3:14: listeners[0].address: port must be from 1 to 65535",
      "pier.yaml:6:14: upstreams.app.balance: must be round_robin, least_connections or random",
      "pier.yaml:8:44: upstreams.app.backends[0].weight: must be an integer from 1 to 256",
      "pier.yaml:9:23: upstreams.app.retry.backoff: must be BASE..MAX such as 25ms..250ms (MAX "
      ">= BASE)",
      "pier.yaml:10:25: upstreams.app.health.interval: \"soon\" is not a duration (use a unit: "
      "250ms, 2s, 1m, 1h)",
      "pier.yaml:12:15: routes[0].upstream: no upstream named \"nowhere\" in upstreams",
  };
  EXPECT_EQ(errors, expected);
}

TEST(LoadText, YamlSyntaxErrorIsReportedWithItsPosition) {
  std::vector<std::string> errors = errors_of("listeners:\n  - address: [127.0.0.1:8080\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(errors[0].starts_with("pier.yaml:")) << errors[0];
  EXPECT_NE(errors[0].find("YAML syntax"), std::string::npos) << errors[0];
}

TEST(LoadFile, MissingFileIsAnError) {
  LoadResult result = load_file("/nonexistent/pier.yaml");
  EXPECT_FALSE(result.options.has_value());
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0], "/nonexistent/pier.yaml: cannot open the file");
}

TEST(LoadAdminFile, ReadsOnlyTheAdminSection) {
  // A backend whose name does not resolve (a stopped container) fails the whole config, but not
  // what the health check reads.
  std::string path = testing::TempDir() + "pier_admin_only.yaml";
  std::ofstream(path) << "listeners: [{ address: 127.0.0.1:8080 }]\n"
                         "upstreams: { app: { backends: [no-such-host.invalid:80] } }\n"
                         "routes: [{ upstream: app }]\n"
                         "admin: { address: 0.0.0.0:9911, public_reads: true }\n";
  EXPECT_FALSE(load_file(path).options.has_value());
  AdminLoadResult admin = load_admin_file(path);
  ASSERT_TRUE(admin.admin.has_value()) << admin.errors[0];
  EXPECT_EQ(admin.admin->endpoint.port(), 9911);
  EXPECT_TRUE(admin.admin->public_reads);

  std::ofstream(path) << "admin: { address: 0.0.0.0:9911 }\n";
  AdminLoadResult refused = load_admin_file(path);
  ASSERT_EQ(refused.errors.size(), 1u);
  EXPECT_NE(refused.errors[0].find(":1:8: admin: address 0.0.0.0:9911 is not loopback"),
            std::string::npos)
      << refused.errors[0];
  EXPECT_EQ(load_admin_file("/nonexistent/pier.yaml").errors[0],
            "/nonexistent/pier.yaml: cannot open the file");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace pier::config

namespace pier::config {
namespace {

constexpr const char* kCacheConfig = R"(listeners:
  - address: 127.0.0.1:8080
upstreams:
  app:
    backends: [127.0.0.1:9001]
caches:
  default:
    max_bytes: 64MiB
    max_object: 2MiB
    default_ttl: 10s
    heuristic: 10%
    lock_timeout: 2s
    key: { ignore_query: [utm_source], sort_query: true, headers: [X-Tenant] }
    purge_allow: [10.0.0.0/8]
routes:
  - match: { path_prefix: /a }
    upstream: app
    cache: default
  - match: { path_prefix: / }
    upstream: app
    cache: { name: default, store_set_cookie: true, default_ttl: 30s }
)";

TEST(LoadCaches, CacheDefinitionsAndRouteOverrides) {
  LoadResult result = load_text(kCacheConfig, "pier.yaml");
  ASSERT_TRUE(result.options) << (result.errors.empty() ? "" : result.errors[0]);
  const auto& o = *result.options;
  ASSERT_EQ(o.caches.size(), 1u);
  const auto& c = o.caches[0];
  EXPECT_EQ(c.max_bytes, 64u << 20);
  EXPECT_EQ(c.max_object, 2u << 20);
  EXPECT_EQ(c.policy.default_ttl, 10);
  EXPECT_EQ(c.policy.heuristic_percent, 10);
  EXPECT_EQ(c.lock_timeout, std::chrono::seconds(2));
  EXPECT_EQ(c.key.ignore_query, std::vector<std::string>{"utm_source"});
  EXPECT_TRUE(c.key.sort_query);
  EXPECT_EQ(c.key.headers, std::vector<std::string>{"X-Tenant"});
  EXPECT_TRUE(c.purge_allow.contains(*parse_ip("10.1.2.3")));
  EXPECT_FALSE(c.purge_allow.contains(*parse_ip("127.0.0.1")));
  ASSERT_EQ(o.routes.size(), 2u);
  EXPECT_EQ(o.routes[0].cache_index, 0u);
  EXPECT_EQ(o.routes[0].cache_policy.default_ttl, 10);
  EXPECT_FALSE(o.routes[0].cache_policy.store_set_cookie);
  EXPECT_EQ(o.routes[1].cache_policy.default_ttl, 30);
  EXPECT_TRUE(o.routes[1].cache_policy.store_set_cookie);
  EXPECT_EQ(o.routes[1].cache_policy.heuristic_percent, 10);
}

TEST(LoadCaches, ErrorsNameTheirPlace) {
  std::string text = kCacheConfig;
  text.replace(text.find("cache: default\n"), 14, "cache: nope   ");
  text.replace(text.find("max_object: 2MiB"), 16, "max_object: 1GiB");
  LoadResult result = load_text(text, "pier.yaml");
  ASSERT_EQ(result.errors.size(), 2u);
  EXPECT_EQ(result.errors[0],
            "pier.yaml:8:5: caches.default: max_object must not exceed max_bytes");
  EXPECT_EQ(result.errors[1],
            "pier.yaml:18:12: routes[0].cache: no cache named \"nope\" in caches");
}

}  // namespace
}  // namespace pier::config

namespace pier::config {
namespace {

TEST(LoadRateLimits, DefinitionsKeysAndRoutes) {
  std::string text = yaml({
      "listeners:",
      "  - address: 127.0.0.1:8080",
      "redis: { url: \"redis://:secret@127.0.0.1:6390/2\", timeout: 20ms }",
      "upstreams:",
      "  app: { backends: [127.0.0.1:9001], max_in_flight: 50 }",
      "rate_limits:",
      "  per_client: { rate: 100/s }",
      "  per_key: { key: [\"header:X-API-Key\", route], rate: 6000/m, burst: 10, store: redis,",
      "             on_redis_error: deny, headers: true, max_keys: 5000 }",
      "routes:",
      "  - upstream: app",
      "    rate_limit: [per_client, per_key]",
  });
  LoadResult result = load_text(text, "pier.yaml");
  ASSERT_TRUE(result.options) << (result.errors.empty() ? "" : result.errors[0]);
  const auto& o = *result.options;
  ASSERT_TRUE(o.redis);
  EXPECT_EQ(o.redis->password, "secret");
  EXPECT_EQ(o.redis->db, 2);
  EXPECT_EQ(o.redis->endpoint.port(), 6390);
  EXPECT_EQ(o.redis->timeout, 20ms);
  EXPECT_EQ(o.upstreams[0].max_in_flight, 50u);
  ASSERT_EQ(o.rate_limits.size(), 2u);
  const auto& a = o.rate_limits[0];
  EXPECT_EQ(a.limit.interval_us, 10'000);
  EXPECT_EQ(a.limit.burst, 100);  // default: one second's worth
  EXPECT_FALSE(a.redis);
  ASSERT_EQ(a.key.size(), 1u);
  EXPECT_EQ(a.key[0].kind, proxy::RateKeyPart::Kind::ClientIp);
  const auto& b = o.rate_limits[1];
  EXPECT_EQ(b.limit.interval_us, 10'000);
  EXPECT_EQ(b.limit.burst, 10);
  EXPECT_TRUE(b.redis);
  EXPECT_EQ(b.on_redis_error, proxy::OnRedisError::Deny);
  EXPECT_TRUE(b.headers);
  EXPECT_EQ(b.max_keys, 5000u);
  ASSERT_EQ(b.key.size(), 2u);
  EXPECT_EQ(b.key[0].kind, proxy::RateKeyPart::Kind::Header);
  EXPECT_EQ(b.key[0].header, "X-API-Key");
  EXPECT_EQ(b.key[1].kind, proxy::RateKeyPart::Kind::Route);
  EXPECT_EQ(o.routes[0].rate_limits, (std::vector<std::size_t>{0, 1}));
}

TEST(LoadRateLimits, ErrorsNameTheirPlace) {
  std::string text = yaml({
      "listeners:",                             // 1
      "  - address: 127.0.0.1:8080",            // 2
      "upstreams:",                             // 3
      "  app: { backends: [127.0.0.1:9001] }",  // 4
      "rate_limits:",                           // 5
      "  a: { rate: 100/d, key: cookie }",      // 6
      "  b: { rate: 5/s, store: redis }",       // 7
      "routes:",                                // 8
      "  - upstream: app",                      // 9
      "    rate_limit: c",                      // 10
  });
  std::vector<std::string> errors = errors_of(text);
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(
      errors[0],
      "pier.yaml:6:14: rate_limits.a.rate: must be COUNT/s, COUNT/m or COUNT/h, such as 100/s");
  EXPECT_EQ(errors[1],
            "pier.yaml:6:26: rate_limits.a.key: must be client_ip, route, or header:NAME");
  EXPECT_EQ(
      errors[2],
      "pier.yaml:7:26: rate_limits.b.store: needs a top-level redis: { url: redis://host:port }");
  EXPECT_EQ(errors[3],
            "pier.yaml:10:17: routes[0].rate_limit: no rate limit named \"c\" in rate_limits");
}

TEST(LoadAdmin, ANonLoopbackAddressNeedsATokenOrPublicReads) {
  std::string base = yaml({
      "listeners: [{ address: 127.0.0.1:8080 }]",            // 1
      "upstreams: { app: { backends: [127.0.0.1:9001] } }",  // 2
      "routes: [{ upstream: app }]",                         // 3
  });
  std::vector<std::string> errors = errors_of(base + "admin: { address: 0.0.0.0:9901 }\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0],
            "pier.yaml:4:8: admin: address 0.0.0.0:9901 is not loopback: set token_file (a bearer "
            "token of 16+ characters) or public_reads: true to expose the admin API");

  LoadResult open =
      load_text(base + "admin: { address: 0.0.0.0:9901, public_reads: true }\n", "pier.yaml");
  ASSERT_TRUE(open.options.has_value()) << open.errors[0];
  EXPECT_TRUE(open.options->admin.public_reads);
  EXPECT_TRUE(open.options->admin.endpoint.address().is_unspecified());
  EXPECT_FALSE(load_text(base, "pier.yaml").options->admin.public_reads);
}

}  // namespace
}  // namespace pier::config
