#include "admin/json.h"

#include <gtest/gtest.h>

namespace pier::admin {
namespace {

TEST(Json, NestedObjectsAndArrays) {
  std::string out;
  Json j(out);
  j.begin_object()
      .field("name", "a\"b")
      .field("n", std::uint64_t{3})
      .field("ok", true)
      .key("list")
      .begin_array()
      .value(1)
      .value(2.5)
      .begin_object()
      .field("x", -1)
      .end_object()
      .end_array()
      .key("none")
      .null()
      .end_object();
  EXPECT_EQ(out, R"({"name":"a\"b","n":3,"ok":true,"list":[1,2.5,{"x":-1}],"none":null})");
}

TEST(Json, ControlCharactersAreEscaped) {
  std::string out;
  Json(out).value(std::string_view("a\nb\x01", 4));
  EXPECT_EQ(out, "\"a\\u000ab\\u0001\"");
}

}  // namespace
}  // namespace pier::admin
