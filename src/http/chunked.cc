#include "http/chunked.h"

#include <algorithm>

#include "http/headers.h"

namespace pier::http {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool ChunkedDecoder::fail(std::string_view why) {
  state_ = State::Failed;
  error_ = why;
  return false;
}

ChunkedDecoder::Step ChunkedDecoder::next(std::string_view in) {
  Step step;
  while (step.consumed < in.size() && state_ != State::Done && state_ != State::Failed) {
    if (state_ == State::Data) {
      std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size() - step.consumed));
      step.data = in.substr(step.consumed, n);
      step.consumed += n;
      remaining_ -= n;
      data_bytes_ += n;
      if (remaining_ == 0) state_ = State::DataCr;
      return step;  // one data span per call
    }
    if (!step_byte(in[step.consumed])) return step;
    ++step.consumed;
  }
  return step;
}

bool ChunkedDecoder::step_byte(char c) {
  switch (state_) {
    case State::Size: {
      int v = hex_value(c);
      if (v >= 0) {
        if (++size_digits_ > kMaxSizeDigits) return fail("chunk size too large");
        remaining_ = remaining_ * 16 + static_cast<unsigned>(v);
        return true;
      }
      if (size_digits_ == 0) return fail("invalid chunk size");
      if (c == '\r') {
        state_ = State::SizeLf;
      } else if (c == ';') {
        state_ = State::Extension;
      } else if (c == ' ' || c == '\t') {
        state_ = State::SizeBws;  // BWS before ';' is tolerated as RFC 9112 §7.1.1 allows
      } else {
        return fail("invalid chunk size");
      }
      return true;
    }
    case State::SizeBws:
      // Only more BWS, the extension or the line's end: "5 6" must not pass as size 5.
      if (c == '\r') {
        state_ = State::SizeLf;
      } else if (c == ';') {
        state_ = State::Extension;
      } else if (c != ' ' && c != '\t') {
        return fail("invalid chunk size");
      } else if (++line_extra_ > kMaxLineExtra) {
        return fail("chunk extension too long");
      }
      return true;
    case State::Extension:
      if (c == '\r') {
        state_ = State::SizeLf;
      } else if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
        return fail("invalid character in chunk extension");
      } else if (++line_extra_ > kMaxLineExtra) {
        return fail("chunk extension too long");
      }
      return true;
    case State::SizeLf:
      if (c != '\n') return fail("bare CR in chunk size line");
      line_extra_ = 0;
      size_digits_ = 0;
      state_ = remaining_ == 0 ? State::TrailerStart : State::Data;
      return true;
    case State::DataCr:
      if (c != '\r') return fail("chunk data longer than its size");
      state_ = State::DataLf;
      return true;
    case State::DataLf:
      if (c != '\n') return fail("bare CR after chunk data");
      state_ = State::Size;
      return true;
    case State::TrailerStart:
      if (c == '\r') {
        state_ = State::FinalLf;
        return true;
      }
      if (c == ' ' || c == '\t') return fail("obsolete line folding in trailer");
      trailer_has_colon_ = false;
      line_extra_ = 0;
      state_ = State::Trailer;
      [[fallthrough]];
    case State::Trailer:
      if (++trailer_bytes_ > kMaxTrailerBytes) return fail("trailer section too large");
      if (c == '\r') {
        if (!trailer_has_colon_) return fail("trailer line without a colon");
        state_ = State::TrailerLf;
      } else if (c == ':' && !trailer_has_colon_) {
        if (line_extra_ == 0) return fail("empty trailer field name");
        trailer_has_colon_ = true;
      } else if (!trailer_has_colon_ && !is_token_char(static_cast<unsigned char>(c))) {
        return fail("invalid trailer field name");
      } else if (trailer_has_colon_ &&
                 ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)) {
        return fail("invalid character in trailer value");
      }
      ++line_extra_;
      return true;
    case State::TrailerLf:
      if (c != '\n') return fail("bare CR in trailer");
      state_ = State::TrailerStart;
      return true;
    case State::FinalLf:
      if (c != '\n') return fail("bare CR after the last chunk");
      state_ = State::Done;
      return true;
    case State::Data:
    case State::Done:
    case State::Failed:
      break;
  }
  return fail("internal: unexpected state");
}

}  // namespace pier::http
