// GCRA decided by Redis for a fleet: one atomic Lua script per decision, on Redis's own clock
// (proxies with skewed clocks agree), the key expiring when its bucket is full again. The script
// mirrors ratelimit/gcra.cc line for line.
#pragma once

#include <asio/awaitable.hpp>
#include <optional>
#include <string_view>

#include "ratelimit/gcra.h"
#include "redis/client.h"

namespace pier::ratelimit {

// The Lua source (also its SHA1, for EVALSHA).
std::string_view gcra_script();
std::string_view gcra_script_sha1();

// The decision, or nullopt when Redis failed (down, timeout, error): the caller applies
// on_redis_error. EVALSHA first; on NOSCRIPT the script is sent whole (and so loaded).
asio::awaitable<std::optional<Decision>> decide_in_redis(redis::Client& redis, std::string_view key,
                                                         const Limit& limit);

}  // namespace pier::ratelimit
