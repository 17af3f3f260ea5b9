#include "cache/entry_codec.h"

#include <gtest/gtest.h>

namespace pier::cache {
namespace {

Entry sample() {
  Entry e;
  e.status = 200;
  e.reason = "OK";
  e.headers = {{"Content-Type", "text/plain"}, {"ETag", "\"v1\""}};
  e.vary = {{"accept-language", "en"}};
  e.body = std::string("body\0with\r\nbytes", 16);
  e.request_time = 1700000000;
  e.response_time = 1700000001;
  e.age_value = 5;
  return e;
}

TEST(EntryCodec, RoundTrip) {
  Entry e = sample();
  auto d = decode(encode_entry(e));
  ASSERT_TRUE(d);
  ASSERT_EQ(d->kind, Decoded::Kind::Entry);
  EXPECT_EQ(d->entry.status, 200);
  EXPECT_EQ(d->entry.reason, "OK");
  ASSERT_EQ(d->entry.headers.size(), 2u);
  EXPECT_EQ(d->entry.headers[1].name, "ETag");
  EXPECT_EQ(d->entry.headers[1].value, "\"v1\"");
  ASSERT_EQ(d->entry.vary.size(), 1u);
  EXPECT_EQ(d->entry.vary[0].value, "en");
  EXPECT_EQ(d->entry.body, e.body);
  EXPECT_EQ(d->entry.request_time, e.request_time);
  EXPECT_EQ(d->entry.response_time, e.response_time);
  EXPECT_EQ(d->entry.age_value, 5);
}

TEST(EntryCodec, VaryMarkerRoundTrip) {
  auto d = decode(encode_vary_marker({"accept-language", "accept-encoding"}));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kind, Decoded::Kind::VaryMarker);
  EXPECT_EQ(d->vary_names, (std::vector<std::string>{"accept-language", "accept-encoding"}));
}

TEST(EntryCodec, EveryTruncationIsRefused) {
  std::string bytes = encode_entry(sample());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(decode(std::string_view(bytes).substr(0, n))) << n;
  }
}

TEST(EntryCodec, EveryFlippedByteIsRefused) {
  std::string bytes = encode_entry(sample());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x40);
    EXPECT_FALSE(decode(bad)) << i;
  }
}

TEST(EntryCodec, OtherVersionsAndGarbageAreRefused) {
  std::string bytes = encode_entry(sample());
  bytes[2] = static_cast<char>(kCodecVersion + 1);
  EXPECT_FALSE(decode(bytes));
  EXPECT_FALSE(decode("not an entry at all, just some text"));
  EXPECT_FALSE(decode(""));
}

TEST(EntryCodec, VariantKeys) {
  EXPECT_EQ(variant_key("http://h/", {{"accept-language", "en"}, {"x", ""}}),
            "http://h/\x1f"
            "accept-language=en\x1fx=");
  EXPECT_EQ(variant_key("http://h/", {}), "http://h/");
}

}  // namespace
}  // namespace pier::cache
