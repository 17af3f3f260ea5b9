#include "cache/policy.h"

#include <algorithm>

#include "base/strings.h"
#include "cache/http_date.h"

namespace pier::cache {
namespace {

using http::find_field;
using http::Header;
using http::HeaderList;

HeaderList views_of(const std::vector<StoredField>& fields) {
  HeaderList out;
  out.reserve(fields.size());
  for (const StoredField& f : fields)
    out.push_back({f.name, f.value});
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = ascii_lower(c);
  return out;
}

std::int64_t freshness_lifetime(const Entry& e, const CacheControl& cc, const HeaderList& fields,
                                std::int64_t date, const PolicyOptions& options) {
  if (cc.conflicting_freshness) return 0;
  if (cc.s_maxage) return *cc.s_maxage;
  if (cc.max_age) return *cc.max_age;
  if (const Header* expires = find_field(fields, "expires")) {
    auto at = parse_http_date(expires->value);  // invalid (e.g. "0"): already expired
    return at ? std::max<std::int64_t>(0, *at - date) : 0;
  }
  if (!heuristically_cacheable(e.status)) return 0;
  if (options.heuristic_percent > 0 && e.last_modified_time >= 0 && date > e.last_modified_time) {
    std::int64_t h = (date - e.last_modified_time) * options.heuristic_percent / 100;
    return std::min(h, options.heuristic_max);
  }
  return options.default_ttl;
}

}  // namespace

bool heuristically_cacheable(int status) {
  switch (status) {
    case 200:
    case 203:
    case 204:
    case 300:
    case 301:
    case 308:
    case 404:
    case 405:
    case 410:
    case 414:
    case 501:
      return true;
    default:
      return false;
  }
}

bool is_stored_field(std::string_view name) {
  return !http::is_hop_by_hop(name) && !iequals(name, "content-length") && !iequals(name, "age");
}

StoreDecision may_store(const http::RequestHead& request, const http::ResponseHead& response,
                        const PolicyOptions& options) {
  if (request.method != http::Method::Get) return {false, "method"};
  int status = response.status;
  if (status < 200 || status == 206 || status == 304) return {false, "status"};
  CacheControl req = parse_cache_control(request.headers);
  CacheControl res = parse_cache_control(response.headers);
  if (req.no_store || res.no_store) return {false, "no-store"};
  if (res.is_private) return {false, "private"};
  if (find_field(request.headers, "authorization") &&
      !(res.is_public || res.s_maxage || res.must_revalidate)) {
    return {false, "authorization"};
  }
  if (!options.store_set_cookie && find_field(response.headers, "set-cookie")) {
    return {false, "set-cookie"};
  }
  if (find_field(response.headers, "content-range")) return {false, "partial"};
  bool explicit_freshness =
      res.s_maxage || res.max_age || res.is_public || find_field(response.headers, "expires");
  if (!explicit_freshness && !heuristically_cacheable(status)) return {false, "status"};
  return {true, {}};
}

std::unique_ptr<Entry> entry_from_response(const http::RequestHead& request,
                                           const http::ResponseHead& response,
                                           std::int64_t request_time) {
  auto entry = std::make_unique<Entry>();
  if (!record_vary(*entry, response.headers, request.headers)) return nullptr;
  entry->status = response.status;
  entry->reason = response.reason;
  for (const Header& h : response.headers) {
    if (iequals(h.name, "age")) entry->age_value = parse_delta_seconds(h.value).value_or(0);
    if (!is_stored_field(h.name) || http::named_in_connection(h.name, response.connection_tokens)) {
      continue;
    }
    entry->headers.push_back({std::string(h.name), std::string(h.value)});
  }
  entry->request_time = request_time;
  if (response.framing == http::Framing::ContentLength) {
    entry->body.reserve(response.content_length);
  }
  return entry;
}

void describe(Entry& e, const PolicyOptions& options) {
  HeaderList fields = views_of(e.headers);
  CacheControl cc = parse_cache_control(fields);
  const Header* etag = find_field(fields, "etag");
  const Header* last_modified = find_field(fields, "last-modified");
  e.etag = etag ? std::string(etag->value) : std::string();
  e.last_modified = last_modified ? std::string(last_modified->value) : std::string();
  auto lm = last_modified ? parse_http_date(last_modified->value) : std::nullopt;
  e.last_modified_time = lm ? *lm : -1;

  const Header* date_field = find_field(fields, "date");
  auto parsed_date = date_field ? parse_http_date(date_field->value) : std::nullopt;
  std::int64_t date = parsed_date ? *parsed_date : e.response_time;

  e.lifetime = freshness_lifetime(e, cc, fields, date, options);
  // RFC 9111 §4.2.3.
  std::int64_t apparent_age = std::max<std::int64_t>(0, e.response_time - date);
  std::int64_t response_delay = std::max<std::int64_t>(0, e.response_time - e.request_time);
  e.initial_age = std::max(apparent_age, e.age_value + response_delay);

  e.no_cache = cc.no_cache;
  e.must_revalidate = cc.must_revalidate || cc.proxy_revalidate || cc.s_maxage.has_value();
  e.stale_while_revalidate = cc.stale_while_revalidate.value_or(0);
  e.stale_if_error = cc.stale_if_error.value_or(0);
}

Verdict judge(const Entry& e, const CacheControl& req, bool request_no_cache, std::int64_t now) {
  Verdict v;
  v.age = e.current_age(now);
  v.ttl = e.lifetime - v.age;
  const Use validate = e.has_validator() ? Use::Revalidate : Use::Fetch;
  if (request_no_cache || e.no_cache) {
    v.use = validate;
    return v;
  }
  bool request_accepts_age = !req.max_age || v.age <= *req.max_age;
  bool request_accepts_ttl = !req.min_fresh || v.ttl >= *req.min_fresh;
  if (!request_accepts_age || !request_accepts_ttl) {
    v.use = validate;
    return v;
  }
  if (v.ttl > 0) {
    v.use = Use::Fresh;
    return v;
  }
  std::int64_t staleness = -v.ttl;
  if (!e.must_revalidate) {
    if (req.max_stale && staleness <= *req.max_stale) {
      v.use = Use::StaleAllowed;
      return v;
    }
    if (staleness < e.stale_while_revalidate) {
      v.use = Use::StaleWhileRevalidate;
      return v;
    }
  }
  v.use = validate;
  return v;
}

bool may_serve_on_error(const Entry& e, const CacheControl& req, std::int64_t now) {
  if (e.must_revalidate || e.no_cache) return false;
  std::int64_t staleness = e.current_age(now) - e.lifetime;
  std::int64_t window = std::max(e.stale_if_error, req.stale_if_error.value_or(0));
  return staleness < window;
}

bool request_forbids_cached(const http::RequestHead& request, const CacheControl& cc) {
  if (cc.no_cache) return true;
  if (find_field(request.headers, "cache-control")) return false;
  const Header* pragma = find_field(request.headers, "pragma");
  if (!pragma) return false;
  CommaList list(pragma->value);
  for (std::string_view token; list.next(token);) {
    if (iequals(token, "no-cache")) return true;
  }
  return false;
}

std::string vary_value(const HeaderList& request, std::string_view name) {
  std::string out;
  for (const Header& h : request) {
    if (!iequals(h.name, name)) continue;
    CommaList list(h.value);
    for (std::string_view element; list.next(element);) {
      if (!out.empty()) out.push_back(',');
      for (char c : element) {
        if (c == ' ' || c == '\t') continue;  // "en, fr;q=0.5" == "en,fr;q=0.5"
        out.push_back(ascii_lower(c));
      }
    }
  }
  return out;
}

bool record_vary(Entry& e, const HeaderList& response, const HeaderList& request) {
  e.vary.clear();
  for (const Header& h : response) {
    if (!iequals(h.name, "vary")) continue;
    CommaList list(h.value);
    for (std::string_view name; list.next(name);) {
      if (name == "*") return false;
      std::string key = lower(name);
      bool seen = std::any_of(e.vary.begin(), e.vary.end(),
                              [&](const StoredField& f) { return f.name == key; });
      if (!seen) e.vary.push_back({key, vary_value(request, name)});
    }
  }
  return true;
}

bool vary_matches(const Entry& e, const HeaderList& request) {
  for (const StoredField& f : e.vary) {
    if (vary_value(request, f.name) != f.value) return false;
  }
  return true;
}

void merge_not_modified(Entry& e, const HeaderList& not_modified) {
  auto replaced = [](std::string_view name) {
    return is_stored_field(name) && !iequals(name, "content-length");
  };
  for (const Header& h : not_modified) {
    if (!replaced(h.name)) continue;
    std::erase_if(e.headers, [&](const StoredField& f) { return iequals(f.name, h.name); });
  }
  for (const Header& h : not_modified) {
    if (replaced(h.name)) e.headers.push_back({std::string(h.name), std::string(h.value)});
  }
  const Header* age = find_field(not_modified, "age");
  auto age_value = age ? parse_delta_seconds(age->value) : std::nullopt;
  e.age_value = age_value.value_or(0);
}

bool weak_etag_equal(std::string_view a, std::string_view b) {
  if (a.starts_with("W/")) a.remove_prefix(2);
  if (b.starts_with("W/")) b.remove_prefix(2);
  return !a.empty() && a == b;
}

bool client_not_modified(const Entry& e, const HeaderList& request) {
  if (e.status < 200 || e.status > 299) return false;  // RFC 9110 §13.2.1: only for 2xx
  if (const Header* inm = find_field(request, "if-none-match")) {
    if (trim_ows(inm->value) == "*") return true;
    CommaList list(inm->value);
    for (std::string_view tag; list.next(tag);) {
      if (weak_etag_equal(tag, e.etag)) return true;
    }
    return false;
  }
  if (const Header* ims = find_field(request, "if-modified-since")) {
    auto since = parse_http_date(ims->value);
    return since && e.last_modified_time >= 0 && e.last_modified_time <= *since;
  }
  return false;
}

}  // namespace pier::cache
