#include "http/head_scanner.h"

#include <cstring>

namespace pier::http {

ScanStatus HeadScanner::scan(std::string_view data) {
  const char* base = data.data();
  while (scanned_ < data.size()) {
    const void* hit = std::memchr(base + scanned_, '\n', data.size() - scanned_);
    if (hit == nullptr) {
      scanned_ = data.size();
      break;
    }
    std::size_t lf = static_cast<const char*>(hit) - base;
    scanned_ = lf + 1;
    // The limits first, as if the bytes before this LF had arrived alone: the answer must not
    // depend on how the head was split between reads.
    if (ScanStatus s = over_limit(lf); s != ScanStatus::Incomplete) return s;
    if (lf == line_start_ || base[lf - 1] != '\r') return ScanStatus::BadLineEnding;
    if (!first_line_done_) {
      first_line_done_ = true;
      first_line_size_ = lf - 1;
    } else if (lf - line_start_ == 1) {  // the blank line; within max_head, as over_limit said
      head_size_ = scanned_;
      return ScanStatus::Complete;
    }
    line_start_ = scanned_;
  }
  return over_limit(data.size());
}

ScanStatus HeadScanner::over_limit(std::size_t size) const {
  bool line_over = !first_line_done_ && size > max_first_line_ + 1;  // + 1: the CR may be next
  bool head_over = size >= max_head_;
  // Both grow with size; report the one that a byte-by-byte feed would have crossed first.
  if (line_over && (!head_over || max_first_line_ + 2 <= max_head_)) {
    return ScanStatus::LineTooLong;
  }
  return head_over ? ScanStatus::HeadTooLarge : ScanStatus::Incomplete;
}

}  // namespace pier::http
