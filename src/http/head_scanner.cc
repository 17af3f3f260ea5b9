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
    if (lf == line_start_ || base[lf - 1] != '\r') return ScanStatus::BadLineEnding;
    std::size_t line_length = lf - 1 - line_start_;  // without CRLF
    if (!first_line_done_) {
      if (line_length > max_first_line_) return ScanStatus::LineTooLong;
      first_line_done_ = true;
    } else if (line_length == 0) {
      head_size_ = scanned_;
      return head_size_ > max_head_ ? ScanStatus::HeadTooLarge : ScanStatus::Complete;
    }
    line_start_ = scanned_;
  }
  if (!first_line_done_ && data.size() - line_start_ > max_first_line_ + 1) {
    return ScanStatus::LineTooLong;
  }
  return data.size() >= max_head_ ? ScanStatus::HeadTooLarge : ScanStatus::Incomplete;
}

}  // namespace pier::http
