#include "http/chunked.h"

#include <algorithm>

#include "base/strings.h"

namespace pier::http {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_ws(char c) {
  return c == ' ' || c == '\t';
}

bool is_tchar(char c) {
  return is_token_char(static_cast<unsigned char>(c));
}

// qdtext of RFC 9110 §5.6.4: HTAB, SP, VCHAR but '"' and '\', obs-text.
bool is_qdtext(char c) {
  auto u = static_cast<unsigned char>(c);
  return u == '\t' || u == ' ' || u == 0x21 || (u >= 0x23 && u <= 0x5b) ||
         (u >= 0x5d && u <= 0x7e) || u >= 0x80;
}

// What may follow a backslash in a quoted string: HTAB, SP, VCHAR, obs-text.
bool is_quoted_pair_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return u == '\t' || u == ' ' || (u >= 0x21 && u <= 0x7e) || u >= 0x80;
}

// field-vchar / SP / HTAB: no CTL (CR, LF and NUL included), no DEL.
bool is_field_value_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return u == '\t' || (u >= 0x20 && u != 0x7f);
}

// The first CR in `bytes` followed by something other than LF; npos if none (a CR at the very
// end may still be followed by its LF).
std::size_t bare_cr(std::string_view bytes) {
  for (std::size_t i = 0; i + 1 < bytes.size(); ++i) {
    if (bytes[i] == '\r' && bytes[i + 1] != '\n') return i;
  }
  return std::string_view::npos;
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
    if (state_ == State::TrailerStart) {
      Step line = trailer_line(in.substr(step.consumed));
      step.consumed += line.consumed;
      step.trailer = line.trailer;
      return step;  // one trailer field (or the end, or a wait for more) per call
    }
    if (!step_byte(in[step.consumed])) return step;
    ++step.consumed;
  }
  return step;
}

// One trailer line, taken whole: the line is judged only once all of it is there, so the answer
// does not depend on how the bytes were split between reads.
ChunkedDecoder::Step ChunkedDecoder::trailer_line(std::string_view in) {
  Step step;
  std::string_view window = in.substr(0, std::min(in.size(), kMaxLineExtra + 2));
  std::size_t lf = window.find('\n');
  std::string_view line = lf == std::string_view::npos ? window : window.substr(0, lf);
  if (bare_cr(line) != std::string_view::npos) {
    fail("bare CR in trailer");
    return step;
  }
  if (lf == std::string_view::npos) {
    if (trailer_bytes_ + window.size() > kMaxTrailerBytes) {
      fail("trailer section too large");
    } else if (window.size() == kMaxLineExtra + 2) {
      fail("trailer line too long");
    }
    return step;  // else: wait for the rest of the line
  }
  if (trailer_bytes_ + lf + 1 > kMaxTrailerBytes) {
    fail("trailer section too large");
    return step;
  }
  if (lf == 0 || line.back() != '\r') {
    fail("bare LF in trailer");
    return step;
  }
  line.remove_suffix(1);
  if (line.empty()) {  // the blank line that ends the body
    state_ = State::Done;
    step.consumed = 2;
    return step;
  }
  if (is_ws(line.front())) {
    fail("obsolete line folding in trailer");
    return step;
  }
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    fail("trailer line without a colon");
    return step;
  }
  std::string_view name = line.substr(0, colon);
  std::string_view value = line.substr(colon + 1);
  if (name.empty()) {
    fail("empty trailer field name");
    return step;
  }
  if (!is_token(name)) {
    fail("invalid trailer field name");
    return step;
  }
  if (!std::all_of(value.begin(), value.end(), is_field_value_char)) {
    fail("invalid character in trailer value");
    return step;
  }
  trailer_bytes_ += lf + 1;
  step.consumed = lf + 1;
  step.trailer = Header{name, trim_ows(value)};
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
      return size_line_end(c);
    }
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
    case State::Data:
    case State::TrailerStart:
    case State::Done:
    case State::Failed:
      return fail("internal: unexpected state");
    default:
      if (++line_extra_ > kMaxLineExtra) return fail("chunk extension too long");
      return extension_byte(c);
  }
}

// The byte right after the size's last digit.
bool ChunkedDecoder::size_line_end(char c) {
  if (c == '\r') {
    state_ = State::SizeLf;
  } else if (c == ';') {
    state_ = State::ExtNameStart;
  } else if (is_ws(c)) {
    state_ = State::SizeBws;  // BWS, allowed before ';' only (RFC 9112 §7.1.1)
  } else {
    return fail("invalid chunk size");
  }
  return true;
}

// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ), to the letter: no
// whitespace before the CRLF, no empty name, values a token or a quoted string.
bool ChunkedDecoder::extension_byte(char c) {
  switch (state_) {
    case State::SizeBws:
    case State::ExtAfterValue:
      if (c == ';') {
        state_ = State::ExtNameStart;
      } else if (!is_ws(c)) {
        return fail(c == '\r' ? "whitespace at the end of a chunk size line"
                              : "invalid chunk size line");
      }
      return true;
    case State::ExtNameStart:
      if (is_tchar(c)) {
        state_ = State::ExtName;
      } else if (!is_ws(c)) {
        return fail("empty or invalid chunk extension name");
      }
      return true;
    case State::ExtName:
    case State::ExtToken:
      if (c == '\r') {
        state_ = State::SizeLf;
      } else if (c == ';') {
        state_ = State::ExtNameStart;
      } else if (c == '=' && state_ == State::ExtName) {
        state_ = State::ExtValueStart;
      } else if (is_ws(c)) {
        state_ = state_ == State::ExtName ? State::ExtAfterName : State::ExtAfterValue;
      } else if (!is_tchar(c)) {
        return fail("invalid character in chunk extension");
      }
      return true;
    case State::ExtAfterName:
      if (c == '=') {
        state_ = State::ExtValueStart;
      } else if (c == ';') {
        state_ = State::ExtNameStart;
      } else if (!is_ws(c)) {
        return fail(c == '\r' ? "whitespace at the end of a chunk size line"
                              : "invalid chunk extension");
      }
      return true;
    case State::ExtValueStart:
      if (c == '"') {
        state_ = State::ExtQuoted;
      } else if (is_tchar(c)) {
        state_ = State::ExtToken;
      } else if (!is_ws(c)) {
        return fail("empty or invalid chunk extension value");
      }
      return true;
    case State::ExtQuoted:
      if (c == '"') {
        state_ = State::ExtAfterQuote;
      } else if (c == '\\') {
        state_ = State::ExtQuotedPair;
      } else if (!is_qdtext(c)) {
        return fail("invalid character in chunk extension");
      }
      return true;
    case State::ExtQuotedPair:
      if (!is_quoted_pair_char(c)) return fail("invalid character in chunk extension");
      state_ = State::ExtQuoted;
      return true;
    case State::ExtAfterQuote:
      if (c == '\r') {
        state_ = State::SizeLf;
      } else if (c == ';') {
        state_ = State::ExtNameStart;
      } else if (is_ws(c)) {
        state_ = State::ExtAfterValue;
      } else {
        return fail("invalid chunk extension");
      }
      return true;
    default:
      return fail("internal: unexpected state");
  }
}

}  // namespace pier::http
