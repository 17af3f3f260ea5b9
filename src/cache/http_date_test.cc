#include "cache/http_date.h"

#include <gtest/gtest.h>

namespace pier::cache {
namespace {

constexpr std::int64_t k1994 = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's example)

TEST(HttpDate, ParsesTheThreeFormatsOfRfc9110) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), k1994);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), k1994);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), k1994);
}

TEST(HttpDate, RefusesWhatIsNotADate) {
  for (const char* bad :
       {"", "0", "-1", "Sun, 06 Nov 1994 08:49:37", "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT junk", "tomorrow"}) {
    EXPECT_FALSE(parse_http_date(bad)) << bad;
  }
}

TEST(HttpDate, FormatsImfFixdate) {
  EXPECT_EQ(format_http_date(k1994), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(format_http_date(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
}

TEST(HttpDate, RoundTrips) {
  for (std::int64_t t = 0; t < 4'000'000'000; t += 86'399 * 37) {
    ASSERT_EQ(parse_http_date(format_http_date(t)), t) << format_http_date(t);
  }
}

TEST(HttpDate, TwoDigitYearsOfRfc850) {
  EXPECT_EQ(format_http_date(*parse_http_date("Thursday, 01-Jan-70 00:00:00 GMT")),
            "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(format_http_date(*parse_http_date("Monday, 01-Jan-24 00:00:00 GMT")),
            "Mon, 01 Jan 2024 00:00:00 GMT");
}

}  // namespace
}  // namespace pier::cache
