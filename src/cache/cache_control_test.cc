#include "cache/cache_control.h"

#include <gtest/gtest.h>

namespace pier::cache {
namespace {

CacheControl parse(std::initializer_list<const char*> values) {
  http::HeaderList headers;
  for (const char* v : values)
    headers.push_back({"Cache-Control", v});
  headers.push_back({"Other", "no-store"});  // only Cache-Control counts
  return parse_cache_control(headers);
}

TEST(CacheControl, ResponseDirectives) {
  CacheControl cc =
      parse({"public, max-age=60, s-maxage=120", "must-revalidate, proxy-revalidate"});
  EXPECT_TRUE(cc.is_public);
  EXPECT_EQ(cc.max_age, 60);
  EXPECT_EQ(cc.s_maxage, 120);
  EXPECT_TRUE(cc.must_revalidate);
  EXPECT_TRUE(cc.proxy_revalidate);
  EXPECT_FALSE(cc.no_store);
  EXPECT_FALSE(cc.conflicting_freshness);
}

TEST(CacheControl, CaseAndWhitespaceAndEmptyElements) {
  CacheControl cc = parse({" ,NO-STORE ,, Max-Age=5 ,"});
  EXPECT_TRUE(cc.no_store);
  EXPECT_EQ(cc.max_age, 5);
}

TEST(CacheControl, QuotedValuesAndQualifiedForms) {
  CacheControl cc = parse({"max-age=\"30\", no-cache=\"Set-Cookie, X-A\", private=\"X-B\""});
  EXPECT_EQ(cc.max_age, 30);
  EXPECT_TRUE(cc.no_cache);
  EXPECT_TRUE(cc.is_private);
}

TEST(CacheControl, MalformedOrConflictingFreshnessMeansStale) {
  EXPECT_TRUE(parse({"max-age=abc"}).conflicting_freshness);
  EXPECT_EQ(parse({"max-age=abc"}).max_age, 0);
  EXPECT_TRUE(parse({"max-age"}).conflicting_freshness);
  EXPECT_TRUE(parse({"max-age=10", "max-age=20"}).conflicting_freshness);
  EXPECT_FALSE(parse({"max-age=10, max-age=10"}).conflicting_freshness);
  EXPECT_TRUE(parse({"s-maxage=-1"}).conflicting_freshness);
}

TEST(CacheControl, HugeDeltaIsCappedAt2To31) {
  EXPECT_EQ(parse({"max-age=99999999999999999999999"}).max_age, kMaxDelta);
}

TEST(CacheControl, RequestDirectives) {
  CacheControl cc = parse({"max-stale, min-fresh=10, only-if-cached, no-cache"});
  EXPECT_EQ(cc.max_stale, kMaxDelta);
  EXPECT_EQ(cc.min_fresh, 10);
  EXPECT_TRUE(cc.only_if_cached);
  EXPECT_TRUE(cc.no_cache);
  EXPECT_EQ(parse({"max-stale=7"}).max_stale, 7);
  EXPECT_FALSE(parse({"min-fresh=x"}).min_fresh);  // malformed request directives are ignored
}

TEST(CacheControl, StaleExtensions) {
  CacheControl cc = parse({"max-age=1, stale-while-revalidate=30, stale-if-error=600"});
  EXPECT_EQ(cc.stale_while_revalidate, 30);
  EXPECT_EQ(cc.stale_if_error, 600);
}

TEST(CacheControl, DeltaSeconds) {
  EXPECT_EQ(parse_delta_seconds("0"), 0);
  EXPECT_EQ(parse_delta_seconds("0042"), 42);
  EXPECT_FALSE(parse_delta_seconds(""));
  EXPECT_FALSE(parse_delta_seconds("1.5"));
  EXPECT_FALSE(parse_delta_seconds(" 1"));
}

}  // namespace
}  // namespace pier::cache
