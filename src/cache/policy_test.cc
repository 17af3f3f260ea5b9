#include "cache/policy.h"

#include <gtest/gtest.h>

#include <string>

#include "cache/http_date.h"
#include "http/request_parser.h"
#include "http/response_parser.h"

namespace pier::cache {
namespace {

constexpr std::int64_t kT = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
const std::string kDate = "Date: " + format_http_date(kT) + "\r\n";

// Parsed heads over text that outlives them.
struct Exchange {
  std::string request_text;
  std::string response_text;
  http::RequestHead request;
  http::ResponseHead response;

  Exchange(std::string req_fields, std::string res_fields, int status = 200,
           std::string method = "GET")
      : request_text(method + " /a HTTP/1.1\r\nHost: h\r\n" + req_fields + "\r\n"),
        response_text("HTTP/1.1 " + std::to_string(status) + " X\r\n" + res_fields +
                      "Content-Length: 0\r\n\r\n") {
    EXPECT_FALSE(http::parse_request_head(request_text, {100}, request)) << request_text;
    EXPECT_FALSE(http::parse_response_head(response_text, request.method, 100, response))
        << response_text;
  }
};

Entry entry_of(const std::string& res_fields, int status = 200, std::int64_t request_time = kT,
               std::int64_t response_time = kT, const PolicyOptions& options = {}) {
  Exchange x("", res_fields, status);
  Entry e;
  e.status = status;
  for (const auto& h : x.response.headers) {
    if (is_stored_field(h.name)) e.headers.push_back({std::string(h.name), std::string(h.value)});
    if (h.name == "Age") e.age_value = *parse_delta_seconds(h.value);
  }
  e.request_time = request_time;
  e.response_time = response_time;
  describe(e, options);
  return e;
}

TEST(MayStore, TableOfRfc9111Section3) {
  struct Case {
    const char* request_fields;
    const char* response_fields;
    int status;
    const char* method;
    bool store;
    const char* why;
  };
  const Case cases[] = {
      {"", "Cache-Control: max-age=60\r\n", 200, "GET", true, ""},
      {"", "", 200, "GET", true, ""},  // heuristically cacheable status
      {"", "", 404, "GET", true, ""},
      {"", "", 302, "GET", false, "status"},  // not heuristically cacheable, no freshness
      {"", "Cache-Control: max-age=60\r\n", 302, "GET", true, ""},
      {"", "Expires: Thu, 01 Jan 2099 00:00:00 GMT\r\n", 302, "GET", true, ""},
      {"", "", 206, "GET", false, "status"},
      {"", "Cache-Control: max-age=60\r\n", 200, "POST", false, "method"},
      {"", "Cache-Control: max-age=60\r\n", 200, "HEAD", false, "method"},
      {"Cache-Control: no-store\r\n", "Cache-Control: max-age=60\r\n", 200, "GET", false,
       "no-store"},
      {"", "Cache-Control: max-age=60, no-store\r\n", 200, "GET", false, "no-store"},
      {"", "Cache-Control: private, max-age=60\r\n", 200, "GET", false, "private"},
      {"Authorization: Basic x\r\n", "Cache-Control: max-age=60\r\n", 200, "GET", false,
       "authorization"},
      {"Authorization: Basic x\r\n", "Cache-Control: public, max-age=60\r\n", 200, "GET", true, ""},
      {"Authorization: Basic x\r\n", "Cache-Control: s-maxage=60\r\n", 200, "GET", true, ""},
      {"Authorization: Basic x\r\n", "Cache-Control: must-revalidate, max-age=9\r\n", 200, "GET",
       true, ""},
      {"", "Set-Cookie: a=b\r\nCache-Control: max-age=60\r\n", 200, "GET", false, "set-cookie"},
  };
  for (const Case& c : cases) {
    Exchange x(c.request_fields, c.response_fields, c.status, c.method);
    StoreDecision d = may_store(x.request, x.response, {});
    EXPECT_EQ(d.store, c.store) << c.method << " " << c.request_fields << c.response_fields;
    EXPECT_EQ(d.why, c.why) << c.request_fields << c.response_fields;
  }
}

TEST(MayStore, SetCookieWhenTheRouteAllowsIt) {
  Exchange x("", "Set-Cookie: a=b\r\nCache-Control: max-age=60\r\n");
  PolicyOptions options;
  options.store_set_cookie = true;
  EXPECT_TRUE(may_store(x.request, x.response, options).store);
}

TEST(Freshness, SMaxageThenMaxAgeThenExpires) {
  EXPECT_EQ(entry_of(kDate + "Cache-Control: max-age=60, s-maxage=120\r\n").lifetime, 120);
  EXPECT_EQ(
      entry_of(kDate + "Cache-Control: max-age=60\r\nExpires: " + format_http_date(kT + 9) + "\r\n")
          .lifetime,
      60);
  EXPECT_EQ(entry_of(kDate + "Expires: " + format_http_date(kT + 90) + "\r\n").lifetime, 90);
}

TEST(Freshness, InvalidOrPastExpiresIsStale) {
  EXPECT_EQ(entry_of(kDate + "Expires: 0\r\n").lifetime, 0);
  EXPECT_EQ(entry_of(kDate + "Expires: " + format_http_date(kT - 100) + "\r\n").lifetime, 0);
}

TEST(Freshness, NoneWithoutConfiguration) {
  EXPECT_EQ(entry_of(kDate + "Last-Modified: " + format_http_date(kT - 1000) + "\r\n").lifetime, 0);
}

TEST(Freshness, HeuristicOnlyWhenConfigured) {
  PolicyOptions options;
  options.heuristic_percent = 10;
  Entry e = entry_of(kDate + "Last-Modified: " + format_http_date(kT - 1000) + "\r\n", 200, kT, kT,
                     options);
  EXPECT_EQ(e.lifetime, 100);
  // Not for a status that is not heuristically cacheable.
  EXPECT_EQ(entry_of(kDate + "Last-Modified: " + format_http_date(kT - 1000) + "\r\n", 500, kT, kT,
                     options)
                .lifetime,
            0);
}

TEST(Freshness, DefaultTtlOnlyWithoutExplicitFreshness) {
  PolicyOptions options;
  options.default_ttl = 30;
  EXPECT_EQ(entry_of(kDate, 200, kT, kT, options).lifetime, 30);
  EXPECT_EQ(entry_of(kDate + "Cache-Control: max-age=5\r\n", 200, kT, kT, options).lifetime, 5);
  EXPECT_EQ(entry_of(kDate + "Cache-Control: max-age=oops\r\n", 200, kT, kT, options).lifetime, 0);
}

// RFC 9111 §4.2.3, worked through: a response generated at kT, requested at kT+2, received at
// kT+5 with "Age: 10", used at kT+20.
TEST(Age, CorrectedInitialAgeAndCurrentAge) {
  Entry e = entry_of(kDate + "Age: 10\r\nCache-Control: max-age=60\r\n", 200, kT + 2, kT + 5);
  // apparent_age = 5 - 0 = 5; corrected_age_value = 10 + (5 - 2) = 13; initial = 13.
  EXPECT_EQ(e.initial_age, 13);
  EXPECT_EQ(e.current_age(kT + 20), 28);
}

TEST(Age, ClockSkewUsesApparentAge) {
  // The origin's Date is 100 s behind the response time and no Age: apparent age 100.
  Entry e = entry_of("Date: " + format_http_date(kT - 100) + "\r\n", 200, kT, kT);
  EXPECT_EQ(e.initial_age, 100);
}

TEST(Judge, FreshThenStale) {
  Entry e = entry_of(kDate + "Cache-Control: max-age=60\r\nETag: \"v1\"\r\n");
  EXPECT_EQ(judge(e, {}, false, kT + 59).use, Use::Fresh);
  EXPECT_EQ(judge(e, {}, false, kT + 59).ttl, 1);
  EXPECT_EQ(judge(e, {}, false, kT + 60).use, Use::Revalidate);
  Entry no_validator = entry_of(kDate + "Cache-Control: max-age=60\r\n");
  EXPECT_EQ(judge(no_validator, {}, false, kT + 61).use, Use::Fetch);
}

TEST(Judge, RequestDirectives) {
  Entry e = entry_of(kDate + "Cache-Control: max-age=60\r\nETag: \"v1\"\r\n");
  CacheControl req;
  req.max_age = 10;
  EXPECT_EQ(judge(e, req, false, kT + 5).use, Use::Fresh);
  EXPECT_EQ(judge(e, req, false, kT + 11).use, Use::Revalidate);
  req = {};
  req.min_fresh = 30;
  EXPECT_EQ(judge(e, req, false, kT + 20).use, Use::Fresh);
  EXPECT_EQ(judge(e, req, false, kT + 40).use, Use::Revalidate);
  req = {};
  req.max_stale = 10;
  EXPECT_EQ(judge(e, req, false, kT + 65).use, Use::StaleAllowed);
  EXPECT_EQ(judge(e, req, false, kT + 75).use, Use::Revalidate);
  EXPECT_EQ(judge(e, {}, true, kT + 1).use, Use::Revalidate);  // no-cache
}

TEST(Judge, NoCacheResponseAlwaysRevalidates) {
  Entry e = entry_of(kDate + "Cache-Control: no-cache, max-age=60\r\nETag: \"v1\"\r\n");
  EXPECT_EQ(judge(e, {}, false, kT + 1).use, Use::Revalidate);
}

TEST(Judge, MustRevalidateRefusesMaxStale) {
  Entry e = entry_of(kDate + "Cache-Control: max-age=60, must-revalidate\r\nETag: \"v\"\r\n");
  CacheControl req;
  req.max_stale = kMaxDelta;
  EXPECT_EQ(judge(e, req, false, kT + 61).use, Use::Revalidate);
  Entry s = entry_of(kDate + "Cache-Control: s-maxage=60\r\nETag: \"v\"\r\n");  // implies it
  EXPECT_EQ(judge(s, req, false, kT + 61).use, Use::Revalidate);
}

TEST(Judge, StaleWhileRevalidateWithinItsWindowOnly) {
  Entry e = entry_of(kDate + "Cache-Control: max-age=10, stale-while-revalidate=20\r\n");
  EXPECT_EQ(judge(e, {}, false, kT + 15).use, Use::StaleWhileRevalidate);
  EXPECT_EQ(judge(e, {}, false, kT + 29).use, Use::StaleWhileRevalidate);
  EXPECT_EQ(judge(e, {}, false, kT + 30).use, Use::Fetch);
}

TEST(StaleIfError, WithinTheWindowGrantedByResponseOrRequest) {
  Entry e = entry_of(kDate + "Cache-Control: max-age=10, stale-if-error=60\r\n");
  EXPECT_TRUE(may_serve_on_error(e, {}, kT + 20));
  EXPECT_FALSE(may_serve_on_error(e, {}, kT + 71));
  Entry none = entry_of(kDate + "Cache-Control: max-age=10\r\n");
  EXPECT_FALSE(may_serve_on_error(none, {}, kT + 20));
  CacheControl req;
  req.stale_if_error = 100;
  EXPECT_TRUE(may_serve_on_error(none, req, kT + 20));
  Entry strict =
      entry_of(kDate + "Cache-Control: max-age=10, must-revalidate, stale-if-error=60\r\n");
  EXPECT_FALSE(may_serve_on_error(strict, {}, kT + 20));
}

TEST(Vary, NormalisedSelection) {
  Exchange a("Accept-Encoding: gzip,  br\r\nAccept-Language: EN\r\n",
             "Vary: Accept-Encoding, accept-language\r\n");
  Entry e;
  ASSERT_TRUE(record_vary(e, a.response.headers, a.request.headers));
  ASSERT_EQ(e.vary.size(), 2u);
  EXPECT_EQ(e.vary[0].name, "accept-encoding");
  EXPECT_EQ(e.vary[0].value, "gzip,br");
  EXPECT_EQ(e.vary[1].value, "en");
  Exchange same("Accept-Encoding: gzip\r\nAccept-Encoding: br\r\naccept-language: en\r\n", "");
  EXPECT_TRUE(vary_matches(e, same.request.headers));
  Exchange other("Accept-Encoding: gzip\r\nAccept-Language: fr\r\n", "");
  EXPECT_FALSE(vary_matches(e, other.request.headers));
  Exchange absent("Accept-Encoding: gzip, br\r\n", "");
  EXPECT_FALSE(vary_matches(e, absent.request.headers));
}

TEST(Vary, StarNeverMatches) {
  Exchange a("", "Vary: *\r\n");
  Entry e;
  EXPECT_FALSE(record_vary(e, a.response.headers, a.request.headers));
}

TEST(NotModified, MergeReplacesFieldsButNotContentLength) {
  Entry e =
      entry_of(kDate + "Cache-Control: max-age=10\r\nETag: \"v1\"\r\nX-A: old\r\nX-B: keep\r\n");
  std::string date50 = "Date: " + format_http_date(kT + 50) + "\r\n";
  Exchange nm("",
              "Cache-Control: max-age=100\r\nX-A: new\r\nAge: 3\r\nConnection: close\r\n" + date50,
              304);
  merge_not_modified(e, nm.response.headers);
  e.request_time = e.response_time = kT + 50;
  describe(e, {});
  std::string fields;
  for (const auto& f : e.headers)
    fields += f.name + ": " + f.value + "\n";
  EXPECT_EQ(fields, "ETag: \"v1\"\nX-B: keep\nCache-Control: max-age=100\nX-A: new\nDate: " +
                        format_http_date(kT + 50) + "\n");
  EXPECT_EQ(e.lifetime, 100);
  EXPECT_EQ(e.age_value, 3);
  EXPECT_EQ(e.initial_age, 3);
  EXPECT_EQ(judge(e, {}, false, kT + 100).use, Use::Fresh);  // age 53 of 100
}

TEST(ClientConditional, IfNoneMatchWeakComparisonThenIfModifiedSince) {
  Entry e =
      entry_of(kDate + "ETag: W/\"v1\"\r\nLast-Modified: " + format_http_date(kT - 60) + "\r\n");
  EXPECT_TRUE(
      client_not_modified(e, Exchange("If-None-Match: \"x\", \"v1\"\r\n", "").request.headers));
  EXPECT_TRUE(client_not_modified(e, Exchange("If-None-Match: *\r\n", "").request.headers));
  EXPECT_FALSE(client_not_modified(e, Exchange("If-None-Match: \"v2\"\r\n", "").request.headers));
  // If-None-Match wins over If-Modified-Since.
  EXPECT_FALSE(client_not_modified(
      e,
      Exchange("If-None-Match: \"v2\"\r\nIf-Modified-Since: " + format_http_date(kT) + "\r\n", "")
          .request.headers));
  EXPECT_TRUE(client_not_modified(
      e, Exchange("If-Modified-Since: " + format_http_date(kT - 60) + "\r\n", "").request.headers));
  EXPECT_FALSE(client_not_modified(
      e, Exchange("If-Modified-Since: " + format_http_date(kT - 61) + "\r\n", "").request.headers));
  EXPECT_FALSE(
      client_not_modified(e, Exchange("If-Modified-Since: yesterday\r\n", "").request.headers));
}

TEST(ClientConditional, OnlyForStoredSuccesses) {
  Entry e = entry_of(kDate + "ETag: \"v1\"\r\n", 404);
  EXPECT_FALSE(client_not_modified(e, Exchange("If-None-Match: *\r\n", "").request.headers));
  EXPECT_FALSE(client_not_modified(e, Exchange("If-None-Match: \"v1\"\r\n", "").request.headers));
}

TEST(ClientConditional, WeakEtagEquality) {
  EXPECT_TRUE(weak_etag_equal("W/\"1\"", "\"1\""));
  EXPECT_TRUE(weak_etag_equal("\"1\"", "\"1\""));
  EXPECT_FALSE(weak_etag_equal("\"1\"", "\"2\""));
  EXPECT_FALSE(weak_etag_equal("", ""));
}

TEST(Pragma, NoCacheOnlyWithoutCacheControl) {
  Exchange p("Pragma: no-cache\r\n", "");
  EXPECT_TRUE(request_forbids_cached(p.request, parse_cache_control(p.request.headers)));
  Exchange both("Pragma: no-cache\r\nCache-Control: max-age=5\r\n", "");
  EXPECT_FALSE(request_forbids_cached(both.request, parse_cache_control(both.request.headers)));
}

}  // namespace
}  // namespace pier::cache
