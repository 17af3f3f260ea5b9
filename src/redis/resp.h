// RESP (the Redis protocol): commands encoded as arrays of bulk strings, and replies as values.
// No I/O; replies are decoded by hiredis's reader (redis/client.cc) and converted to Reply.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct redisReader;  // hiredis

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

// Decodes replies from the bytes a Redis server sends, as they arrive (hiredis's reader, which
// bounds nesting and sizes, behind a value type). No I/O: the client feeds what it read.
class ReplyReader {
 public:
  ReplyReader();
  ~ReplyReader();
  ReplyReader(const ReplyReader&) = delete;
  ReplyReader& operator=(const ReplyReader&) = delete;

  // False when the bytes cannot be taken (a protocol error earlier, or out of memory).
  bool feed(std::string_view bytes);
  enum class Next { Reply, NeedMore, ProtocolError };
  // The next whole reply into `out`, if the bytes fed so far hold one.
  Next next(Reply& out);
  // Forgets everything fed (a new connection).
  void reset();

 private:
  ::redisReader* reader_;
};

}  // namespace pier::redis
