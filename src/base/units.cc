#include "base/units.h"

#include <charconv>
#include <cmath>

namespace pier {
namespace {

struct Number {
  double value;
  std::string_view unit;
};

// Splits "1.5s" into 1.5 and "s". Refuses signs, exponents and empty numbers.
std::optional<Number> split_number(std::string_view text) {
  std::size_t i = 0;
  bool digits = false;
  bool dot = false;
  while (i < text.size()) {
    char c = text[i];
    if (c >= '0' && c <= '9') {
      digits = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
    ++i;
  }
  if (!digits) return std::nullopt;
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, value);
  if (ec != std::errc() || ptr != text.data() + i) return std::nullopt;
  return Number{value, text.substr(i)};
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  auto number = split_number(text);
  if (!number) return std::nullopt;
  double ns_per_unit = 0;
  std::string_view unit = number->unit;
  if (unit == "ns") {
    ns_per_unit = 1;
  } else if (unit == "us") {
    ns_per_unit = 1e3;
  } else if (unit == "ms") {
    ns_per_unit = 1e6;
  } else if (unit == "s") {
    ns_per_unit = 1e9;
  } else if (unit == "m") {
    ns_per_unit = 60e9;
  } else if (unit == "h") {
    ns_per_unit = 3600e9;
  } else if (unit.empty() && number->value == 0) {
    return Duration::zero();
  } else {
    return std::nullopt;
  }
  double ns = number->value * ns_per_unit;
  if (ns > 1e18) return std::nullopt;  // ~31 years: anything larger is a typo
  return Duration(static_cast<std::int64_t>(std::llround(ns)));
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  auto number = split_number(text);
  if (!number) return std::nullopt;
  std::string_view unit = number->unit;
  double multiplier = 0;
  if (unit.empty() || unit == "B") {
    multiplier = 1;
  } else if (unit == "KiB" || unit == "KB" || unit == "K" || unit == "k") {
    multiplier = 1024.0;
  } else if (unit == "MiB" || unit == "MB" || unit == "M" || unit == "m") {
    multiplier = 1024.0 * 1024;
  } else if (unit == "GiB" || unit == "GB" || unit == "G" || unit == "g") {
    multiplier = 1024.0 * 1024 * 1024;
  } else {
    return std::nullopt;
  }
  double bytes = number->value * multiplier;
  if (bytes > 1e18 || bytes != std::floor(bytes)) return std::nullopt;
  return static_cast<std::uint64_t>(bytes);
}

std::optional<double> parse_percent(std::string_view text) {
  if (text.empty() || text.back() != '%') return std::nullopt;
  auto number = split_number(text.substr(0, text.size() - 1));
  if (!number || !number->unit.empty() || number->value > 100) return std::nullopt;
  return number->value / 100.0;
}

std::optional<std::uint64_t> parse_uint(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace pier
