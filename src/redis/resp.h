// RESP (the Redis protocol): commands encoded as arrays of bulk strings, and replies as values.
// No I/O: redis/client.cc writes the commands and feeds the reader what it reads.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pier::redis {

// Appends "*N\r\n$len\r\narg\r\n..." to out.
void append_command(std::string& out, std::span<const std::string_view> args);
inline void append_command(std::string& out, std::initializer_list<std::string_view> args) {
  append_command(out, std::span<const std::string_view>(args.begin(), args.size()));
}

struct Reply {
  enum class Type { Nil, String, Status, Integer, Array, Error };
  Type type = Type::Nil;
  std::string str;  // String, Status, Error (for a failure of ours: "down", "timeout")
  std::int64_t integer = 0;
  std::vector<Reply> elements;

  bool is_error() const { return type == Type::Error; }
  static Reply error(std::string_view why) {
    Reply r;
    r.type = Type::Error;
    r.str = why;
    return r;
  }
};

// Decodes RESP2 replies from the bytes a Redis server sends, as they arrive. Strict (CRLF only,
// no lone CR or LF in a line, integers that fit in 64 bits) and bounded: nesting, line length,
// bulk length and element count, with memory growing only with the bytes actually received,
// never with what a header claims.
class ReplyReader {
 public:
  // False when the bytes cannot be taken (a protocol error earlier).
  bool feed(std::string_view bytes);
  enum class Next { Reply, NeedMore, ProtocolError };
  // The next whole reply into `out`, if the bytes fed so far hold one.
  Next next(Reply& out);
  // Forgets everything fed (a new connection).
  void reset();

 private:
  std::string buffer_;     // bytes fed and not yet returned as replies, from start_
  std::size_t start_ = 0;  // where the next reply begins in buffer_
  bool failed_ = false;
};

}  // namespace pier::redis
