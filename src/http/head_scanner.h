// Finds the end of an HTTP/1.1 message head as bytes arrive, without rescanning: each call
// resumes with memchr from where the previous one stopped (a whole-buffer memmem per read was
// 31% of user CPU in the design spike).
#pragma once

#include <cstddef>
#include <string_view>

namespace pier::http {

enum class ScanStatus {
  Incomplete,     // need more bytes
  Complete,       // head_size() bytes form the head, blank line included
  LineTooLong,    // the first line exceeds max_first_line (414 for requests)
  HeadTooLarge,   // no blank line within max_head bytes (431 for requests)
  BadLineEnding,  // a line ended in a bare LF (400)
};

class HeadScanner {
 public:
  HeadScanner(std::size_t max_first_line, std::size_t max_head)
      : max_first_line_(max_first_line), max_head_(max_head) {}

  // `data` always starts at the first byte of the head and grows between calls.
  ScanStatus scan(std::string_view data);
  std::size_t head_size() const { return head_size_; }
  // The first line's length without its CRLF, once its LF has been seen (0 before).
  std::size_t first_line_size() const { return first_line_size_; }
  void reset() {
    scanned_ = line_start_ = head_size_ = first_line_size_ = 0;
    first_line_done_ = false;
  }

 private:
  // What `size` bytes without a complete head amount to: Incomplete, LineTooLong or HeadTooLarge.
  ScanStatus over_limit(std::size_t size) const;

  std::size_t max_first_line_;
  std::size_t max_head_;
  std::size_t scanned_ = 0;     // bytes already searched for '\n'
  std::size_t line_start_ = 0;  // start of the current, unfinished line
  std::size_t head_size_ = 0;
  std::size_t first_line_size_ = 0;
  bool first_line_done_ = false;
};

}  // namespace pier::http
