#include <gtest/gtest.h>

#include <string>

#include "cache/key.h"
#include "cache/memory_store.h"
#include "cache/policy.h"

namespace pier::cache {
namespace {

TEST(Key, SchemeHostPathQuery) {
  std::string key;
  build_key(key, "http", "Example.COM:80", "/a/b?x=1&y=2", {}, {});
  EXPECT_EQ(key, "http://example.com/a/b?x=1&y=2");
  build_key(key, "http", "example.com:8080", "/", {}, {});
  EXPECT_EQ(key, "http://example.com:8080/");
}

TEST(Key, IgnoredAndSortedQueryParameters) {
  KeyOptions options;
  options.ignore_query = {"utm_source", "fbclid"};
  options.sort_query = true;
  std::string key;
  build_key(key, "http", "h", "/p?b=2&utm_source=x&a=1&&fbclid", {}, options);
  EXPECT_EQ(key, "http://h/p?a=1&b=2");
  build_key(key, "http", "h", "/p?utm_source=x", {}, options);
  EXPECT_EQ(key, "http://h/p");
}

TEST(Key, ExtraHeaders) {
  KeyOptions options;
  options.headers = {"X-Tenant"};
  std::string key;
  build_key(key, "http", "h", "/", {{"x-tenant", "a"}, {"Other", "z"}}, options);
  EXPECT_EQ(key, "http://h/\nX-Tenant:a");
}

EntryPtr make(std::string body, std::vector<StoredField> vary = {}) {
  auto e = std::make_shared<Entry>();
  e->body = std::move(body);
  e->vary = std::move(vary);
  return e;
}

TEST(MemoryStore, FindPutEraseAndVariants) {
  MemoryStore store(1 << 20, 4);
  bool any = true;
  EXPECT_EQ(store.find("k", {}, &any), nullptr);
  EXPECT_FALSE(any);
  store.put("k", make("en", {{"accept-language", "en"}}));
  store.put("k", make("fr", {{"accept-language", "fr"}}));
  EXPECT_EQ(store.find("k", {{"Accept-Language", "fr"}})->body, "fr");
  EXPECT_EQ(store.find("k", {{"Accept-Language", "en"}})->body, "en");
  EXPECT_EQ(store.find("k", {{"Accept-Language", "de"}}, &any), nullptr);
  EXPECT_TRUE(any);                                          // a vary miss
  store.put("k", make("en2", {{"accept-language", "en"}}));  // replaces its variant
  EXPECT_EQ(store.find("k", {{"Accept-Language", "en"}})->body, "en2");
  EXPECT_EQ(store.stats().entries, 1u);
  EXPECT_TRUE(store.erase("k"));
  EXPECT_FALSE(store.erase("k"));
  EXPECT_EQ(store.stats().bytes, 0u);
}

TEST(MemoryStore, EvictsLeastRecentlyUsedWithinMaxBytes) {
  MemoryStore store(64 * 1024, 1);
  for (int i = 0; i < 100; ++i) {
    std::string key = std::to_string(i);
    key.insert(0, 1, 'k');  // not "k" + ...: GCC 12 warns falsely (-Wrestrict) on that
    store.put(key, make(std::string(1000, 'x')));
    store.find("k0", {});  // k0 stays recently used
  }
  StoreStats s = store.stats();
  EXPECT_LE(s.bytes, 64u * 1024);
  EXPECT_GT(s.evictions, 0u);
  EXPECT_NE(store.find("k0", {}), nullptr);
  EXPECT_EQ(store.find("k1", {}), nullptr);
  EXPECT_NE(store.find("k99", {}), nullptr);
}

TEST(MemoryStore, RefusesAnObjectLargerThanAShard) {
  MemoryStore store(64 * 1024, 4);
  store.put("big", make(std::string(20000, 'x')));
  EXPECT_EQ(store.find("big", {}), nullptr);
}

TEST(MemoryStore, ErasePrefix) {
  MemoryStore store(1 << 20, 4);
  for (const char* k : {"http://h/a/1", "http://h/a/2", "http://h/b/1"})
    store.put(k, make("x"));
  EXPECT_EQ(store.erase_prefix("http://h/a/"), 2u);
  EXPECT_EQ(store.stats().entries, 1u);
}

TEST(MemoryStore, AnEvictedEntryStaysValidForItsReader) {
  MemoryStore store(1 << 20, 1);
  store.put("k", make("body"));
  EntryPtr held = store.find("k", {});
  store.erase("k");
  EXPECT_EQ(held->body, "body");
}

}  // namespace
}  // namespace pier::cache

#include "cache/coalescer.h"

namespace pier::cache {
namespace {

TEST(Coalescer, FirstLeadsOthersWaitFinishWakesAll) {
  Coalescer c(2);
  int woken = 0;
  EXPECT_TRUE(c.join("k", [&] { ++woken; }));
  EXPECT_FALSE(c.join("k", [&] { ++woken; }));
  EXPECT_FALSE(c.join("k", [&] { ++woken; }));
  EXPECT_TRUE(c.join("other", [&] { ++woken; }));
  EXPECT_EQ(c.in_flight(), 2u);
  c.finish("k");
  EXPECT_EQ(woken, 2);
  EXPECT_TRUE(c.join("k", [&] { ++woken; }));  // a new fetch may lead again
  c.finish("k");
  c.finish("other");
  c.finish("never");  // harmless
  EXPECT_EQ(c.in_flight(), 0u);
  EXPECT_EQ(woken, 2);
}

TEST(Coalescer, TryLeadNeverWaits) {
  Coalescer c(2);
  int woken = 0;
  EXPECT_TRUE(c.join("k", [&] { ++woken; }));
  EXPECT_FALSE(c.try_lead("k"));  // registers nothing
  EXPECT_FALSE(c.join("k", [&] { ++woken; }));
  c.finish("k");
  EXPECT_EQ(woken, 1);
  EXPECT_TRUE(c.try_lead("k"));
  c.finish("k");
}

}  // namespace
}  // namespace pier::cache
