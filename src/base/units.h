// Parsing of the config's units: durations ("250ms"), sizes ("64KiB"), percents ("20%").
// Pure functions; each returns nullopt on anything it does not fully understand.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace pier {

using Duration = std::chrono::nanoseconds;

// "0", "250ms", "2s", "1.5s", "1m", "1h", "500us". A bare number other than 0 is refused: a unit
// must be explicit so that "5" cannot mean five seconds to one reader and milliseconds to another.
std::optional<Duration> parse_duration(std::string_view text);

// "512", "64KiB", "8MiB", "1GiB", also "64KB"/"64K" (binary multiples, as nginx does).
std::optional<std::uint64_t> parse_size(std::string_view text);

// "20%" or "20.5%" -> 0.20 / 0.205; 0..100 only.
std::optional<double> parse_percent(std::string_view text);

// A non-negative decimal integer that fits in uint64, digits only.
std::optional<std::uint64_t> parse_uint(std::string_view text);

}  // namespace pier
