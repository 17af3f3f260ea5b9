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

TEST(ReplyReader, NestingBeyondTheBoundIsAProtocolError) {
  // hiredis bounds nesting (7 levels): a server, or bytes in between, cannot make it recurse on.
  std::string deep;
  for (int i = 0; i < 9; ++i)
    deep += "*1\r\n";
  deep += ":1\r\n";
  ReplyReader reader;
  ASSERT_TRUE(reader.feed(deep));
  Reply reply;
  EXPECT_EQ(reader.next(reply), ReplyReader::Next::ProtocolError);
}

}  // namespace
}  // namespace pier::redis
