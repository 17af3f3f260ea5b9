// Cache-Control (RFC 9111 §5.2) parsed into the directives a shared cache acts on. No I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "http/headers.h"

namespace pier::cache {

// RFC 9111 §1.2.2: a delta-seconds too large to represent is taken as 2^31.
inline constexpr std::int64_t kMaxDelta = 2147483648;

struct CacheControl {
  // Response and request directives.
  bool no_store = false;
  bool no_cache = false;  // also its qualified form no-cache="field": revalidate every use
  std::optional<std::int64_t> max_age;
  // Response directives.
  bool is_private = false;  // also private="field": a shared cache stores nothing of it
  bool is_public = false;
  bool must_revalidate = false;
  bool proxy_revalidate = false;
  std::optional<std::int64_t> s_maxage;
  std::optional<std::int64_t> stale_while_revalidate;
  std::optional<std::int64_t> stale_if_error;
  // Request directives.
  std::optional<std::int64_t> max_stale;  // present without a value: any staleness (kMaxDelta)
  std::optional<std::int64_t> min_fresh;
  bool only_if_cached = false;
  // A max-age or s-maxage that was malformed or given twice with different values: the
  // response is treated as stale (RFC 9111 §4.2.1 lets a cache choose that, and it is safe).
  bool conflicting_freshness = false;
};

// Parses every Cache-Control field line of `headers`; unknown directives are ignored, quoted
// values are accepted where a token is expected (RFC 9111 §5.2).
CacheControl parse_cache_control(const http::HeaderList& headers);

// delta-seconds: 1*DIGIT, capped at kMaxDelta; nullopt if not all digits.
std::optional<std::int64_t> parse_delta_seconds(std::string_view text);

}  // namespace pier::cache
