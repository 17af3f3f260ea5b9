#include "redis/resp.h"

#include <charconv>

namespace pier::redis {
namespace {

void append_length(std::string& out, char kind, std::size_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  out.push_back(kind);
  out.append(digits, end).append("\r\n");
}

}  // namespace

void append_command(std::string& out, std::span<const std::string_view> args) {
  append_length(out, '*', args.size());
  for (std::string_view arg : args) {
    append_length(out, '$', arg.size());
    out.append(arg).append("\r\n");
  }
}

namespace {

// Bounds on what a server's reply may claim. Redis itself caps a bulk string at 512 MiB
// (proto-max-bulk-len); Pier sends nothing that answers with more than a handful of elements.
constexpr std::size_t kMaxLine = 64 * 1024;
constexpr std::int64_t kMaxBulk = std::int64_t{512} << 20;
constexpr std::int64_t kMaxElements = std::int64_t{1} << 20;
constexpr int kMaxDepth = 7;

enum class Parse { Done, NeedMore, Bad };

// One attempt at a whole reply over the bytes buffered so far. Every verdict depends only on the
// bytes seen, so a reply split anywhere reads the same as a reply read whole. Nothing is
// allocated for what a header claims: elements are added as they are parsed.
class Attempt {
 public:
  explicit Attempt(std::string_view in) : in_(in) {}
  std::size_t used() const { return pos_; }

  Parse value(Reply& out, int depth) {
    if (pos_ == in_.size()) return Parse::NeedMore;
    switch (in_[pos_++]) {
      case '+':
        out.type = Reply::Type::Status;
        return text(out.str);
      case '-':
        out.type = Reply::Type::Error;
        return text(out.str);
      case ':':
        out.type = Reply::Type::Integer;
        return integer(out.integer);
      case '$':
        return bulk(out);
      case '*':
        return array(out, depth);
      default:
        return Parse::Bad;
    }
  }

 private:
  // A line up to CRLF; a lone CR or LF inside it, or a line past the bound, is an error.
  Parse line(std::string_view& text) {
    std::string_view window = in_.substr(pos_, kMaxLine + 2);
    std::size_t end = window.find_first_of("\r\n");
    if (end == std::string_view::npos) {
      return window.size() > kMaxLine ? Parse::Bad : Parse::NeedMore;
    }
    if (end > kMaxLine || window[end] == '\n') return Parse::Bad;
    if (end + 1 == window.size()) return Parse::NeedMore;
    if (window[end + 1] != '\n') return Parse::Bad;
    text = window.substr(0, end);
    pos_ += end + 2;
    return Parse::Done;
  }

  Parse text(std::string& out) {
    std::string_view t;
    Parse p = line(t);
    if (p == Parse::Done) out.assign(t);
    return p;
  }

  Parse integer(std::int64_t& n) {
    std::string_view t;
    Parse p = line(t);
    if (p != Parse::Done) return p;
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
    return ec == std::errc() && end == t.data() + t.size() && !t.empty() ? Parse::Done : Parse::Bad;
  }

  Parse bulk(Reply& out) {
    std::int64_t length = 0;
    Parse p = integer(length);
    if (p != Parse::Done) return p;
    if (length == -1) return nil(out);
    if (length < -1 || length > kMaxBulk) return Parse::Bad;
    std::size_t n = static_cast<std::size_t>(length);
    std::size_t available = in_.size() - pos_;
    if (available > n && in_[pos_ + n] != '\r') return Parse::Bad;
    if (available > n + 1 && in_[pos_ + n + 1] != '\n') return Parse::Bad;
    if (available < n + 2) return Parse::NeedMore;
    out.type = Reply::Type::String;
    out.str.assign(in_.substr(pos_, n));
    pos_ += n + 2;
    return Parse::Done;
  }

  Parse array(Reply& out, int depth) {
    std::int64_t count = 0;
    Parse p = integer(count);
    if (p != Parse::Done) return p;
    if (count == -1) return nil(out);
    if (count < -1 || count > kMaxElements || depth == kMaxDepth) return Parse::Bad;
    out.type = Reply::Type::Array;
    for (std::int64_t i = 0; i < count; ++i) {
      p = value(out.elements.emplace_back(), depth + 1);
      if (p != Parse::Done) return p;
    }
    return Parse::Done;
  }

  static Parse nil(Reply& out) {
    out.type = Reply::Type::Nil;
    return Parse::Done;
  }

  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace

void ReplyReader::reset() {
  buffer_.clear();
  start_ = 0;
  failed_ = false;
}

bool ReplyReader::feed(std::string_view bytes) {
  if (failed_) return false;
  buffer_.append(bytes);
  return true;
}

ReplyReader::Next ReplyReader::next(Reply& out) {
  if (failed_) return Next::ProtocolError;
  Attempt attempt(std::string_view(buffer_).substr(start_));
  Reply reply;
  switch (attempt.value(reply, 0)) {
    case Parse::Bad:
      failed_ = true;
      return Next::ProtocolError;
    case Parse::NeedMore:
      // A partial reply is parsed again from its start when more arrives: cheap for the small
      // arrays and single bulk strings Pier's commands get back.
      buffer_.erase(0, start_);
      start_ = 0;
      return Next::NeedMore;
    case Parse::Done:
      break;
  }
  start_ += attempt.used();
  if (start_ == buffer_.size()) reset();
  out = std::move(reply);
  return Next::Reply;
}

}  // namespace pier::redis
