#include "redis/resp.h"

#include <gtest/gtest.h>

namespace pier::redis {
namespace {

TEST(Resp, CommandsAreArraysOfBulkStrings) {
  std::string out;
  append_command(out, {"GET", "k"});
  EXPECT_EQ(out, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
  out.clear();
  append_command(out, {"SET", std::string_view("a\r\nb\0c", 6), "", "PX", "1500"});
  static constexpr char kExpected[] =
      "*5\r\n$3\r\nSET\r\n$6\r\na\r\nb\0c\r\n$0\r\n\r\n$2\r\nPX\r\n$4\r\n1500\r\n";
  EXPECT_EQ(out, std::string(kExpected, sizeof kExpected - 1));
}

TEST(Resp, AppendsAfterWhatIsThere) {
  std::string out = "x";
  append_command(out, {"PING"});
  EXPECT_EQ(out, "x*1\r\n$4\r\nPING\r\n");
}

// Feeds `bytes` one at a time: NeedMore until the last byte, then one whole reply.
Reply read_byte_by_byte(std::string_view bytes) {
  ReplyReader reader;
  Reply reply;
  for (std::size_t i = 0; i + 1 < bytes.size(); ++i) {
    EXPECT_TRUE(reader.feed(bytes.substr(i, 1)));
    EXPECT_EQ(reader.next(reply), ReplyReader::Next::NeedMore) << "after byte " << i;
  }
  EXPECT_TRUE(reader.feed(bytes.substr(bytes.size() - 1)));
  EXPECT_EQ(reader.next(reply), ReplyReader::Next::Reply);
  Reply none;
  EXPECT_EQ(reader.next(none), ReplyReader::Next::NeedMore);
  return reply;
}

TEST(ReplyReader, ScalarsByteByByte) {
  Reply status = read_byte_by_byte("+OK\r\n");
  EXPECT_EQ(status.type, Reply::Type::Status);
  EXPECT_EQ(status.str, "OK");
  Reply error = read_byte_by_byte("-NOSCRIPT No matching script\r\n");
  EXPECT_EQ(error.type, Reply::Type::Error);
  EXPECT_EQ(error.str, "NOSCRIPT No matching script");
  Reply integer = read_byte_by_byte(":-42\r\n");
  EXPECT_EQ(integer.type, Reply::Type::Integer);
  EXPECT_EQ(integer.integer, -42);
  Reply nil = read_byte_by_byte("$-1\r\n");
  EXPECT_EQ(nil.type, Reply::Type::Nil);
}

TEST(ReplyReader, BulkStringsKeepEveryByte) {
  static constexpr char kBulk[] = "$6\r\na\r\nb\0c\r\n";
  Reply bulk = read_byte_by_byte(std::string_view(kBulk, sizeof kBulk - 1));
  EXPECT_EQ(bulk.type, Reply::Type::String);
  EXPECT_EQ(bulk.str, std::string("a\r\nb\0c", 6));
  Reply empty = read_byte_by_byte("$0\r\n\r\n");
  EXPECT_EQ(empty.type, Reply::Type::String);
  EXPECT_EQ(empty.str, "");
}

TEST(ReplyReader, NestedArraysByteByByte) {
  // An EVALSHA answer of the rate limiter's shape, and a pub/sub message.
  Reply gcra = read_byte_by_byte("*3\r\n:1\r\n:0\r\n*2\r\n$1\r\nx\r\n$-1\r\n");
  ASSERT_EQ(gcra.type, Reply::Type::Array);
  ASSERT_EQ(gcra.elements.size(), 3u);
  EXPECT_EQ(gcra.elements[0].integer, 1);
  EXPECT_EQ(gcra.elements[1].integer, 0);
  ASSERT_EQ(gcra.elements[2].elements.size(), 2u);
  EXPECT_EQ(gcra.elements[2].elements[0].str, "x");
  EXPECT_EQ(gcra.elements[2].elements[1].type, Reply::Type::Nil);
  Reply empty = read_byte_by_byte("*0\r\n");
  EXPECT_EQ(empty.type, Reply::Type::Array);
  EXPECT_TRUE(empty.elements.empty());
}

TEST(ReplyReader, SeveralRepliesInOneRead) {
  ReplyReader reader;
  ASSERT_TRUE(reader.feed("+OK\r\n:7\r\n$3\r\nab"));
  Reply reply;
  ASSERT_EQ(reader.next(reply), ReplyReader::Next::Reply);
  EXPECT_EQ(reply.str, "OK");
  ASSERT_EQ(reader.next(reply), ReplyReader::Next::Reply);
  EXPECT_EQ(reply.integer, 7);
  EXPECT_EQ(reader.next(reply), ReplyReader::Next::NeedMore);
  ASSERT_TRUE(reader.feed("c\r\n"));
  ASSERT_EQ(reader.next(reply), ReplyReader::Next::Reply);
  EXPECT_EQ(reply.type, Reply::Type::String);
  EXPECT_EQ(reply.str, "abc");
}

TEST(ReplyReader, ProtocolErrorsStickUntilReset) {
  ReplyReader reader;
  ASSERT_TRUE(reader.feed("?what\r\n"));
  Reply reply;
  EXPECT_EQ(reader.next(reply), ReplyReader::Next::ProtocolError);
  EXPECT_FALSE(reader.feed("+OK\r\n"));  // nothing after an error can be trusted
  EXPECT_EQ(reader.next(reply), ReplyReader::Next::ProtocolError);
  reader.reset();  // a new connection
  ASSERT_TRUE(reader.feed("+OK\r\n"));
  ASSERT_EQ(reader.next(reply), ReplyReader::Next::Reply);
  EXPECT_EQ(reply.str, "OK");
}

// The verdict on `bytes` fed whole: a reply, more needed, or a protocol error.
ReplyReader::Next verdict(std::string_view bytes) {
  ReplyReader reader;
  EXPECT_TRUE(reader.feed(bytes));
  Reply reply;
  return reader.next(reply);
}

TEST(ReplyReader, NestingBeyondTheBoundIsAProtocolError) {
  // Seven levels are enough for any reply Pier asks for; a server, or bytes in between, cannot
  // make the reader recurse on.
  auto nested = [](int levels) {
    std::string deep;
    for (int i = 0; i < levels; ++i)
      deep += "*1\r\n";
    return deep + ":1\r\n";
  };
  EXPECT_EQ(verdict(nested(7)), ReplyReader::Next::Reply);
  EXPECT_EQ(verdict(nested(8)), ReplyReader::Next::ProtocolError);
}

TEST(ReplyReader, HeadersClaimingTooMuchAreProtocolErrors) {
  // Found by the fuzzer with hiredis's reader, which allocated a claimed array's whole element
  // table (here 7 GB) before any element arrived.
  EXPECT_EQ(verdict("*888888881\r\n"), ReplyReader::Next::ProtocolError);
  EXPECT_EQ(verdict("*1048577\r\n"), ReplyReader::Next::ProtocolError);
  EXPECT_EQ(verdict("$536870913\r\n"), ReplyReader::Next::ProtocolError);
  // Within the bounds, a header alone waits for its elements and holds nothing for them.
  EXPECT_EQ(verdict("*1048576\r\n:1\r\n"), ReplyReader::Next::NeedMore);
  EXPECT_EQ(verdict("$536870912\r\nabc"), ReplyReader::Next::NeedMore);
  EXPECT_EQ(verdict("*-2\r\n"), ReplyReader::Next::ProtocolError);
  EXPECT_EQ(verdict("$-2\r\n"), ReplyReader::Next::ProtocolError);
  EXPECT_EQ(verdict("*-1\r\n"), ReplyReader::Next::Reply);  // a nil array
}

TEST(ReplyReader, LinesAreStrict) {
  EXPECT_EQ(verdict("+OK\n"), ReplyReader::Next::ProtocolError);
  EXPECT_EQ(verdict("+O\rK\r\n"), ReplyReader::Next::ProtocolError);
  EXPECT_EQ(verdict("+OK\r"), ReplyReader::Next::NeedMore);
  EXPECT_EQ(verdict(":\r\n"), ReplyReader::Next::ProtocolError);
  EXPECT_EQ(verdict(":+1\r\n"), ReplyReader::Next::ProtocolError);
  EXPECT_EQ(verdict(":1x\r\n"), ReplyReader::Next::ProtocolError);
  EXPECT_EQ(verdict(":9223372036854775807\r\n"), ReplyReader::Next::Reply);
  EXPECT_EQ(verdict(":9223372036854775808\r\n"), ReplyReader::Next::ProtocolError);
  EXPECT_EQ(verdict("$3\r\nabcd\r\n"), ReplyReader::Next::ProtocolError);  // no CRLF after 3
  EXPECT_EQ(verdict("$3\r\nabc\rx"), ReplyReader::Next::ProtocolError);
  // A line that cannot end within 64 KiB is refused before it ends.
  EXPECT_EQ(verdict("+" + std::string(64 * 1024, 'a')), ReplyReader::Next::NeedMore);
  EXPECT_EQ(verdict("+" + std::string(64 * 1024 + 1, 'a')), ReplyReader::Next::ProtocolError);
}

TEST(ReplyReader, NothingAfterAnErrorIsRead) {
  ReplyReader reader;
  ASSERT_TRUE(reader.feed(":1\r\n?\r\n:2\r\n"));
  Reply reply;
  ASSERT_EQ(reader.next(reply), ReplyReader::Next::Reply);
  EXPECT_EQ(reply.integer, 1);
  EXPECT_EQ(reader.next(reply), ReplyReader::Next::ProtocolError);
  EXPECT_EQ(reader.next(reply), ReplyReader::Next::ProtocolError);
}

}  // namespace
}  // namespace pier::redis
