#include "http/headers.h"

#include <gtest/gtest.h>

namespace pier::http {
namespace {

TEST(FindField, TheFirstFieldOfThatNameInAnyCase) {
  HeaderList headers{{"Host", "a"}, {"X-Request-Id", "first"}, {"x-request-id", "second"}};
  const Header* h = find_field(headers, "x-request-id");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->value, "first");
  EXPECT_EQ(field_value(headers, "HOST"), "a");
  EXPECT_EQ(find_field(headers, "referer"), nullptr);
  EXPECT_EQ(field_value(headers, "referer"), "");
  EXPECT_EQ(field_value({}, "host"), "");
}

}  // namespace
}  // namespace pier::http
