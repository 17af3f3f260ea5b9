// HTTP dates (RFC 9110 §5.6.7) as seconds since the Unix epoch, without I/O or locale.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pier::cache {

// Accepts the three formats a recipient must: IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"),
// RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime ("Sun Nov  6 08:49:37 1994").
// Anything else (including "0" or "-1" in Expires) is nullopt.
std::optional<std::int64_t> parse_http_date(std::string_view text);

// IMF-fixdate, the only format a sender may generate.
std::string format_http_date(std::int64_t seconds);

}  // namespace pier::cache
