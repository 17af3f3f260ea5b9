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

}  // namespace
}  // namespace pier::redis
