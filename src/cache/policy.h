// RFC 9111 as a shared cache applies it, without I/O: may a response be stored, how long is it
// fresh, how old is it, may it be used for this request, and how a 304 updates it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cache/cache_control.h"
#include "cache/entry.h"
#include "http/message.h"

namespace pier::cache {

struct PolicyOptions {
  std::int64_t default_ttl = 0;  // seconds of freshness for a response without explicit freshness
  int heuristic_percent = 0;     // of (Date - Last-Modified), for such responses; 0 = off
  std::int64_t heuristic_max = 86400;
  bool store_set_cookie = false;
};

// Status codes a cache may store without explicit freshness (RFC 9110 §15.1). 206 is left out:
// Pier stores whole responses only.
bool heuristically_cacheable(int status);

// Fields never stored: hop-by-hop, the framing ones (a stored body is served with its own
// Content-Length) and Age (recomputed on every use).
bool is_stored_field(std::string_view name);

struct StoreDecision {
  bool store = false;
  std::string_view why;  // when not stored: a short reason, for Cache-Status' detail
};

// RFC 9111 §3: may this response to this request be stored by a shared cache?
StoreDecision may_store(const http::RequestHead& request, const http::ResponseHead& response,
                        const PolicyOptions& options);

// A new entry holding the response's status and stored fields, its Vary selection from the
// request, and request_time; the body is added as it arrives. Null for "Vary: *".
std::unique_ptr<Entry> entry_from_response(const http::RequestHead& request,
                                           const http::ResponseHead& response,
                                           std::int64_t request_time);

// Fills the entry's derived facts from its fields and times: freshness lifetime (§4.2.1:
// s-maxage, max-age, Expires - Date, then heuristic or default TTL when configured), corrected
// initial age (§4.2.3), stale windows and validators.
void describe(Entry& entry, const PolicyOptions& options);

// How a stored entry may be used for a request (§4.2, §4.3, RFC 5861).
enum class Use {
  Fresh,                 // serve it
  StaleAllowed,          // stale, but the request's max-stale accepts it: serve it
  StaleWhileRevalidate,  // serve it and refresh it in the background
  Revalidate,            // ask the origin with the entry's validators
  Fetch,                 // stale without validators: fetch anew
};
struct Verdict {
  Use use = Use::Fetch;
  std::int64_t age = 0;
  std::int64_t ttl = 0;  // lifetime - age: negative when stale
};
Verdict judge(const Entry& entry, const CacheControl& request_cc, bool request_no_cache,
              std::int64_t now);

// stale-if-error (RFC 5861 §4): may this stale entry stand in for a failed fetch?
bool may_serve_on_error(const Entry& entry, const CacheControl& request_cc, std::int64_t now);

// Pragma: no-cache counts as Cache-Control: no-cache when the request has no Cache-Control.
bool request_forbids_cached(const http::RequestHead& request, const CacheControl& cc);

// The normalised value of a request field for Vary: all its lines joined, list elements trimmed
// and joined with ",", lower case. Absent fields are "" (and match only absence).
std::string vary_value(const http::HeaderList& request, std::string_view name);

// Fills entry.vary from the response's Vary field(s); false for "Vary: *" (never matches).
bool record_vary(Entry& entry, const http::HeaderList& response, const http::HeaderList& request);

bool vary_matches(const Entry& entry, const http::HeaderList& request);

// RFC 9111 §4.3.4: a 304 replaces the stored fields it carries (not Content-Length and not the
// fields never stored) and the entry's times become the revalidation's.
void merge_not_modified(Entry& entry, const http::HeaderList& not_modified);

// RFC 9110 §13.1: should a client's conditional GET/HEAD be answered 304 from this entry?
bool client_not_modified(const Entry& entry, const http::HeaderList& request);

// RFC 9110 §8.8.3.2: weak comparison of two entity-tags.
bool weak_etag_equal(std::string_view a, std::string_view b);

}  // namespace pier::cache
