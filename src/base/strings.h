// Small byte/string helpers for ASCII protocol text. No locale, no allocation.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace pier {

constexpr char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

// Case-insensitive ASCII equality (header names, tokens).
bool iequals(std::string_view a, std::string_view b);

// Strips spaces and horizontal tabs (HTTP's OWS) from both ends.
std::string_view trim_ows(std::string_view s);

// Iterates the comma-separated elements of a header list value, trimmed, skipping empty ones
// (RFC 9110 §5.6.1: recipients accept empty list elements).
class CommaList {
 public:
  explicit CommaList(std::string_view value) : rest_(value) {}
  // Returns false when there are no more elements.
  bool next(std::string_view& element);

 private:
  std::string_view rest_;
};

// Decimal digits of `n`, appended (no locale, no allocation beyond the string's growth).
void append_decimal(std::string& out, std::int64_t n);

// `s` as a JSON string literal, quotes included: '"' and '\\' escaped, control bytes and DEL
// as \u00XX; other bytes as they are.
void append_json_string(std::string& out, std::string_view s);

// Hash for unordered containers keyed by std::string that are looked up by string_view
// (C++20 heterogeneous lookup: no temporary string per lookup).
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

}  // namespace pier
