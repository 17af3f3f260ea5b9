#include "base/strings.h"

namespace pier {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

bool CommaList::next(std::string_view& element) {
  while (!rest_.empty()) {
    std::size_t comma = rest_.find(',');
    std::string_view item = rest_.substr(0, comma);
    rest_ = comma == std::string_view::npos ? std::string_view() : rest_.substr(comma + 1);
    item = trim_ows(item);
    if (!item.empty()) {
      element = item;
      return true;
    }
  }
  return false;
}

}  // namespace pier
