// Incremental decoder of the chunked transfer coding (RFC 9112 §7.1), without I/O.
//
// Strict: a chunk-size line must match the grammar exactly (hex size, then only well-formed
// extensions: BWS ";" BWS token [BWS "=" BWS (token / quoted-string)]), and every trailer line
// must be a well-formed field line. Anything else fails, so that no byte the decoder accepted can
// be read differently by the next hop. The proxy does not forward the coding as received: it
// re-encodes it from what the decoder returns (http/chunked_reframe.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/headers.h"

namespace pier::http {

class ChunkedDecoder {
 public:
  struct Step {
    std::size_t consumed = 0;  // bytes of the input used, framing and data alike
    std::string_view data;     // chunk data within those bytes (may be empty)
    Header trailer;            // a whole trailer field line within those bytes (name empty: none)
  };

  // Consumes framing and at most one run of chunk data or one trailer field from `in`. Call again
  // with the rest of the input until consumed == in.size(), done() or failed().
  //
  // Trailer field lines are returned whole, so one is consumed only once its CRLF is in `in`:
  // a step that consumes nothing while neither done() nor failed() asks for the same bytes again
  // with more behind them (need_more()). Only trailers wait like that; everything else is taken
  // as it comes.
  Step next(std::string_view in);

  bool done() const { return state_ == State::Done; }
  bool failed() const { return state_ == State::Failed; }
  // An incomplete trailer line waits in the input: read more, then call next() on it again.
  bool need_more(const Step& step) const { return step.consumed == 0 && !done() && !failed(); }
  std::string_view error() const { return error_; }
  std::uint64_t data_bytes() const { return data_bytes_; }
  bool in_trailers() const { return state_ == State::TrailerStart; }
  void reset() { *this = ChunkedDecoder(); }

  static constexpr std::size_t kMaxLineExtra = 4096;  // extensions, and one trailer line
  static constexpr std::size_t kMaxTrailerBytes = 16384;

 private:
  enum class State {
    Size,           // hex digits of the chunk size
    SizeBws,        // whitespace after the size: only ';' may follow
    ExtNameStart,   // after ';': optional BWS, then the extension's name
    ExtName,        // inside the name
    ExtAfterName,   // BWS after the name: '=' or ';' may follow
    ExtValueStart,  // after '=': optional BWS, then a token or a quoted string
    ExtToken,       // inside a token value
    ExtQuoted,      // inside a quoted-string value
    ExtQuotedPair,  // after a backslash in a quoted string
    ExtAfterQuote,  // right after the closing quote
    ExtAfterValue,  // BWS after a value: only ';' may follow
    SizeLf,         // LF after the size line's CR
    Data,           // chunk data
    DataCr,         // CR after chunk data
    DataLf,         // LF after chunk data
    TrailerStart,   // a trailer line, or the final CRLF (whole lines: see next())
    Done,
    Failed,
  };

  bool fail(std::string_view why);
  bool step_byte(char c);  // one framing byte; false when the state became Failed
  bool size_line_end(char c);
  bool extension_byte(char c);
  Step trailer_line(std::string_view in);

  static constexpr int kMaxSizeDigits = 15;  // < 2^60: no overflow

  State state_ = State::Size;
  std::uint64_t remaining_ = 0;  // of the current chunk's data
  std::uint64_t data_bytes_ = 0;
  int size_digits_ = 0;
  std::size_t line_extra_ = 0;
  std::size_t trailer_bytes_ = 0;
  std::string_view error_;
};

}  // namespace pier::http
