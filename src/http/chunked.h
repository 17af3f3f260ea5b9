// Incremental decoder of the chunked transfer coding (RFC 9112 §7.1), without I/O.
//
// The proxy forwards chunked bodies as they are (no re-encoding), so it mostly uses the decoder to
// find where the body ends and to refuse malformed framing; when it must de-chunk (an HTTP/1.0
// client) it also uses the data spans the decoder returns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pier::http {

class ChunkedDecoder {
 public:
  struct Step {
    std::size_t consumed = 0;  // bytes of the input used, framing and data alike
    std::string_view data;     // chunk data within those bytes (may be empty)
  };

  // Consumes framing and at most one run of chunk data from `in`. Call again with the rest of
  // the input until consumed == in.size(), done() or failed().
  Step next(std::string_view in);

  bool done() const { return state_ == State::Done; }
  bool failed() const { return state_ == State::Failed; }
  std::string_view error() const { return error_; }
  std::uint64_t data_bytes() const { return data_bytes_; }
  void reset() { *this = ChunkedDecoder(); }

 private:
  enum class State {
    Size,          // hex digits of the chunk size
    SizeBws,       // whitespace after the size, before ';' or CR
    Extension,     // after the size: ";ext..." up to CR
    SizeLf,        // LF after the size line's CR
    Data,          // chunk data
    DataCr,        // CR after chunk data
    DataLf,        // LF after chunk data
    TrailerStart,  // start of a trailer line, or the final CRLF
    Trailer,       // inside a trailer field line
    TrailerLf,     // LF after a trailer line's CR
    FinalLf,       // LF of the final blank line
    Done,
    Failed,
  };

  bool fail(std::string_view why);
  bool step_byte(char c);  // one framing byte; false when the state became Failed

  static constexpr int kMaxSizeDigits = 15;           // < 2^60: no overflow
  static constexpr std::size_t kMaxLineExtra = 4096;  // extensions and one trailer line
  static constexpr std::size_t kMaxTrailerBytes = 16384;

  State state_ = State::Size;
  std::uint64_t remaining_ = 0;  // of the current chunk's data
  std::uint64_t data_bytes_ = 0;
  int size_digits_ = 0;
  std::size_t line_extra_ = 0;
  std::size_t trailer_bytes_ = 0;
  bool trailer_has_colon_ = false;
  std::string_view error_;
};

}  // namespace pier::http
