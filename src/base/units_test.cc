#include "base/units.h"

#include <gtest/gtest.h>

namespace pier {
namespace {

using namespace std::chrono_literals;

TEST(ParseDuration, AcceptsEveryUnit) {
  EXPECT_EQ(parse_duration("250ms"), Duration(250ms));
  EXPECT_EQ(parse_duration("2s"), Duration(2s));
  EXPECT_EQ(parse_duration("1.5s"), Duration(1500ms));
  EXPECT_EQ(parse_duration("1m"), Duration(60s));
  EXPECT_EQ(parse_duration("1h"), Duration(3600s));
  EXPECT_EQ(parse_duration("500us"), Duration(500us));
  EXPECT_EQ(parse_duration("0"), Duration::zero());
}

TEST(ParseDuration, RefusesMissingUnitsAndGarbage) {
  EXPECT_FALSE(parse_duration("5"));
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("s"));
  EXPECT_FALSE(parse_duration("-1s"));
  EXPECT_FALSE(parse_duration("1 s"));
  EXPECT_FALSE(parse_duration("1sec"));
  EXPECT_FALSE(parse_duration("1e3ms"));
}

TEST(ParseSize, BinaryMultiples) {
  EXPECT_EQ(parse_size("512"), 512u);
  EXPECT_EQ(parse_size("64KiB"), 65536u);
  EXPECT_EQ(parse_size("8MiB"), 8u << 20);
  EXPECT_EQ(parse_size("1GiB"), 1ull << 30);
  EXPECT_EQ(parse_size("1.5KiB"), 1536u);
  EXPECT_FALSE(parse_size("1.3"));
  EXPECT_FALSE(parse_size("10XB"));
  EXPECT_FALSE(parse_size(""));
}

TEST(ParsePercent, RangeAndSign) {
  EXPECT_DOUBLE_EQ(*parse_percent("20%"), 0.2);
  EXPECT_DOUBLE_EQ(*parse_percent("0%"), 0.0);
  EXPECT_FALSE(parse_percent("20"));
  EXPECT_FALSE(parse_percent("101%"));
  EXPECT_FALSE(parse_percent("%"));
}

TEST(ParseUint, DigitsOnly) {
  EXPECT_EQ(parse_uint("42"), 42u);
  EXPECT_FALSE(parse_uint("4 2"));
  EXPECT_FALSE(parse_uint("+4"));
  EXPECT_FALSE(parse_uint("99999999999999999999999"));
}

}  // namespace
}  // namespace pier
