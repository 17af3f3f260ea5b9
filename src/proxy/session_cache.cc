// Session, continued: phase cache_lookup (docs/phases.md) and the storing of responses. A fresh
// entry is served without touching the backend; a stale one is revalidated with its validators
// (a 304 refreshes it), stands in for a failing backend within stale-if-error, or is served while
// one background request refreshes it (stale-while-revalidate). Concurrent misses for one key
// are coalesced: one request goes to the backend, the others wait for its stored response.
#include <time.h>

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include "base/strings.h"
#include "cache/key.h"
#include "cache/policy.h"
#include "http/head_writer.h"
#include "http/status.h"
#include "proxy/background_refresh.h"
#include "proxy/cache_storage.h"
#include "proxy/io.h"
#include "proxy/router.h"
#include "proxy/session.h"

namespace pier::proxy {
namespace {

bool is_unsafe(http::Method m) {
  return m != http::Method::Get && m != http::Method::Head && m != http::Method::Options &&
         m != http::Method::Trace;
}

// RFC 9110 §15.4.5: the fields a 304 carries of the stored response.
bool sent_with_304(std::string_view name) {
  for (std::string_view keep :
       {"cache-control", "content-location", "date", "etag", "expires", "vary", "last-modified"}) {
    if (iequals(name, keep)) return true;
  }
  return false;
}

bool has_body(int status) {
  return status >= 200 && status != 204 && status != 304;
}

// If-None-Match / If-Modified-Since lines that ask the origin whether `e` is still current.
void set_validators(const cache::Entry& e, std::string& out) {
  out.clear();
  if (!e.etag.empty()) out.append("If-None-Match: ").append(e.etag).append("\r\n");
  if (!e.last_modified.empty()) {
    out.append("If-Modified-Since: ").append(e.last_modified).append("\r\n");
  }
}

// A follower's wait for the leader of its key; shared with the wake-up callback, which may run
// after the follower has given up.
struct Waiter {
  explicit Waiter(asio::any_io_executor executor) : timer(std::move(executor)) {}
  asio::steady_timer timer;
  bool woken = false;
};

}  // namespace

std::int64_t wall_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return ts.tv_sec;
}

// Phase cache_lookup. Returns the request's outcome when the cache answered it; nullopt when the
// request goes on to the backend (with cache_ saying what to do with the response).
asio::awaitable<std::optional<Next>> Session::cache_lookup(const RouteOptions& route) {
  cache_.end();
  SharedCache& shared = *runtime_.caches[*route.cache_index];
  cache_.cache = &shared;
  cache_.index = *route.cache_index;
  cache_.policy = &route.cache_policy;
  cache_.cluster = ctx_.clusters[route.cluster_index].get();
  cache_.max_object = shared.options.max_object;
  cache_.request_time = wall_seconds();
  cache::build_key(cache_.key, "http", request_.host, request_.target, request_.headers,
                   shared.options.key);
  http::Method method = request_.method;
  if (request_.method_token == "PURGE") co_return co_await purge();
  if (method != http::Method::Get && method != http::Method::Head) {
    cache_.invalidate = is_unsafe(method);
    if (cache_.invalidate) {
      // Now, while the head is intact: a streamed body reuses its buffer.
      cache::KeyOptions url_only = shared.options.key;
      url_only.headers.clear();
      cache::build_key(cache_.invalidate_key, "http", request_.host, request_.target, {}, url_only);
      cache_.request_host.assign(request_.host);
    }
    cache_.status = "fwd=method";
    co_return std::nullopt;
  }
  if (request_.framing != http::Framing::None) {
    cache_.status = "fwd=bypass; detail=request-body";
    co_return std::nullopt;
  }
  cache_.may_store = method == http::Method::Get;
  cache_.request_cc = cache::parse_cache_control(request_.headers);
  cache_.request_no_cache = cache::request_forbids_cached(request_, cache_.request_cc);
  for (bool waited = false;; waited = true) {
    bool any_variant = false;
    cache::EntryPtr entry = co_await cache_find(shared, ctx_.redis.get(), cache_.key,
                                                request_.headers, *cache_.policy, &any_variant);
    cache_.stale.reset();
    if (entry) {
      cache::Verdict verdict =
          cache::judge(*entry, cache_.request_cc, cache_.request_no_cache, wall_seconds());
      if (verdict.use == cache::Use::Fresh || verdict.use == cache::Use::StaleAllowed ||
          verdict.use == cache::Use::StaleWhileRevalidate) {
        if (verdict.use == cache::Use::StaleWhileRevalidate && method == http::Method::Get) {
          start_background_refresh(entry);
        }
        cache_.status = "hit";
        if (waited) cache_.status.append("; detail=coalesced");
        in_.consume(request_scanner_.head_size());
        co_return co_await serve_entry(*entry);
      }
      cache_.stale = entry;
      cache_.status = cache_.request_no_cache ? "fwd=request" : "fwd=stale";
    } else {
      cache_.status = any_variant ? "fwd=vary-miss" : "fwd=miss";
    }
    if (cache_.request_cc.only_if_cached) {
      in_.consume(request_scanner_.head_size());
      cache_.status.append("; detail=only-if-cached");
      co_return co_await send_error(504, "not in cache (only-if-cached)", http::Close::No);
    }
    if (method == http::Method::Head || waited) break;
    // Lead the fetch, or wait for the leader's response and look again (a slow leader: go to
    // the backend too, after lock_timeout).
    if (!co_await wait_for_leader()) break;
  }
  if (cache_.stale && cache_.stale->has_validator() && method == http::Method::Get) {
    cache_.revalidating = true;
    set_validators(*cache_.stale, cache_.validators);
  }
  co_return std::nullopt;
}

void Session::start_background_refresh(const cache::EntryPtr& stale) {
  RefreshJob job;
  job.cache = cache_.cache;
  job.policy = *cache_.policy;
  job.cluster = cache_.cluster;
  job.redis = ctx_.redis.get();
  job.key = cache_.key;
  job.stale = stale;
  job.client_head.assign(in_.readable().substr(0, request_scanner_.head_size()));
  job.max_headers = runtime_.options.http.max_headers;
  std::string validators;
  set_validators(*stale, validators);
  ClientFacts client{peer_text_, client_conn_.trusted, "http", cache_.cluster->cluster->name()};
  build_upstream_request(request_, client, runtime_.options.http.via, job.upstream_head,
                         RequestEdits{true, validators});
  start_refresh(ctx_, std::move(job));
}

// PURGE <url> removes every stored variant of the URL; PURGE <prefix>* every URL that starts
// with the prefix. Only from purge_allow (loopback by default); never forwarded.
asio::awaitable<Next> Session::purge() {
  in_.consume(request_scanner_.head_size());
  bool has_body = request_.framing != http::Framing::None;
  http::Close close = has_body ? http::Close::Yes : http::Close::No;
  cache_.status = "fwd=method; detail=purge";
  if (!cache_.cache->options.purge_allow.contains(client_conn_.peer)) {
    co_return co_await send_error(403, "PURGE is not allowed from this address", close);
  }
  // The URL's key without the configured request fields, which a PURGE does not carry: every
  // variant of them goes.
  cache::KeyOptions url_only = cache_.cache->options.key;
  url_only.headers.clear();
  cache::build_key(cache_.key, "http", request_.host, request_.target, {}, url_only);
  std::size_t removed = 0;
  redis::Client* redis = ctx_.redis.get();
  if (cache_.key.ends_with('*')) {
    cache_.key.pop_back();
    removed = co_await cache_erase(*cache_.cache, redis, cache_.key, true);
  } else {
    removed = co_await cache_erase(*cache_.cache, redis, cache_.key, false);
    if (!cache_.cache->options.key.headers.empty()) {
      std::string with_fields = cache_.key + "\n";
      removed += co_await cache_erase(*cache_.cache, redis, with_fields, true);
    }
  }
  co_return co_await send_error(removed > 0 ? 200 : 404, removed > 0 ? "purged" : "not in cache",
                                close);
}

// Joins the coalesced fetch of the key: either this request leads it (false, cache_.lead set),
// or it waits for the leader's finish() (posted back to this worker) or lock_timeout, whichever
// comes first (true when the leader finished).
asio::awaitable<bool> Session::wait_for_leader() {
  auto waiter = std::make_shared<Waiter>(client_.get_executor());
  waiter->timer.expires_after(cache_.cache->options.lock_timeout);
  auto executor = client_.get_executor();
  bool lead = cache_.cache->coalescer.join(cache_.key, [waiter, executor] {
    asio::post(executor, [waiter] {
      waiter->woken = true;
      waiter->timer.cancel();
    });
  });
  if (lead) {
    cache_.lead = true;
    co_return false;
  }
  co_await waiter->timer.async_wait(kNoThrow);
  co_return waiter->woken;
}

// A stored response as the client gets it: its fields, Age, Cache-Status, Via, and its body with
// Content-Length; 304 when the client's own validators match.
asio::awaitable<Next> Session::serve_entry(const cache::Entry& entry) {
  std::int64_t age = entry.current_age(wall_seconds());
  bool not_modified = cache::client_not_modified(entry, request_.headers);
  int status = not_modified ? 304 : entry.status;
  bool send_body = !not_modified && request_.method != http::Method::Head;
  bool close = ctx_.draining || !request_.keep_alive;
  out_.clear();
  http::HeadWriter head(out_);
  head.status_line(status, not_modified ? http::reason_phrase(304) : entry.reason);
  for (const cache::StoredField& f : entry.headers) {
    if (not_modified && !sent_with_304(f.name)) continue;
    if (iequals(f.name, "x-request-id")) continue;  // the id of the request that stored it
    head.field(f.name, f.value);
  }
  head.field("Age", static_cast<std::uint64_t>(std::max<std::int64_t>(age, 0)));
  if (cache_.status == "hit" || cache_.status.starts_with("hit;")) {
    cache_.status.append("; ttl=");
    append_decimal(cache_.status, entry.lifetime - age);
  }
  head.via(request_.version_minor, runtime_.options.http.via);
  if (has_body(status)) head.content_length(entry.body.size());
  if (close) {
    head.connection(http::ConnectionField::Close);
  } else if (request_.version_minor == 0) {
    head.connection(http::ConnectionField::KeepAlive);
  }
  head.end();
  add_response_fields(out_.size());
  std::string_view body = send_body ? std::string_view(entry.body) : std::string_view();
  trace_.status = status;
  trace_.bytes_out += out_.size() + body.size();
  std::array<asio::const_buffer, 2> buffers{asio::buffer(out_), asio::buffer(body)};
  // A large stored body to a slow client: the route's body idle timeout, as a relayed one gets.
  arm(Phase::Body, cache_.cluster->cluster->options().timeouts.idle);
  auto [ec, n] = co_await asio::async_write(client_, buffers, kNoThrow);
  disarm();
  if (ec || close) co_return Next::Close;
  co_return Next::KeepAlive;
}

// Called once the final response head is in: a 304 to our revalidation refreshes the entry, a
// 5xx may be replaced by the stale entry (stale-if-error), an unsafe method's success
// invalidates, and a storable response starts being captured. nullopt: relay the response.
asio::awaitable<std::optional<Next>> Session::cache_response(upstream::ConnectionPool& pool) {
  if (!cache_.active()) co_return std::nullopt;
  int status = response_.status;
  if (cache_.invalidate) {
    if (status >= 200 && status < 400) co_await invalidate_after_unsafe();
    co_return std::nullopt;
  }
  if (cache_.revalidating && status == 304) {
    // Merged while response_'s fields still point into the upstream buffer.
    auto updated = std::make_shared<cache::Entry>(*cache_.stale);
    cache::merge_not_modified(*updated, response_.headers);
    updated->request_time = cache_.request_time;
    updated->response_time = wall_seconds();
    cache::describe(*updated, *cache_.policy);
    up_.consume(response_head_size_);
    bool clean = up_.empty() && response_.keep_alive;
    up_.release();
    disarm();
    release_upstream(pool, clean ? upstream::Reuse::Yes : upstream::Reuse::No);
    co_await cache_put(*cache_.cache, ctx_.redis.get(), cache_.key, updated);
    cache_.release_lead();
    cache_.status.append("; fwd-status=304");
    co_return co_await serve_entry(*updated);
  }
  if (cache_.stale && status >= 500 &&
      cache::may_serve_on_error(*cache_.stale, cache_.request_cc, wall_seconds())) {
    up_.release();
    disarm();
    release_upstream(pool, upstream::Reuse::No);
    cache_.status.append("; fwd-status=");
    append_decimal(cache_.status, status);
    cache_.status.append("; detail=stale-if-error");
    cache_.release_lead();
    co_return co_await serve_entry(*cache_.stale);
  }
  if (cache_.may_store) start_capture();
  if (!cache_.capture) cache_.release_lead();  // nothing to wait for: the waiters fetch now
  co_return std::nullopt;
}

// No backend could answer: a stale entry may still, within its stale-if-error window.
asio::awaitable<std::optional<Next>> Session::serve_stale_on_error() {
  if (!cache_.active() || !cache_.stale ||
      !cache::may_serve_on_error(*cache_.stale, cache_.request_cc, wall_seconds())) {
    co_return std::nullopt;
  }
  cache_.status.append("; detail=stale-if-error");
  cache_.release_lead();
  co_return co_await serve_entry(*cache_.stale);
}

void Session::start_capture() {
  cache::StoreDecision decision = cache::may_store(request_, response_, *cache_.policy);
  if (!decision.store) {
    cache_.status.append("; detail=").append(decision.why);
    return;
  }
  if (response_.framing == http::Framing::ContentLength &&
      response_.content_length > cache_.max_object) {
    cache_.status.append("; detail=too-large");
    return;
  }
  auto entry = cache::entry_from_response(request_, response_, cache_.request_time);
  if (!entry) {
    cache_.status.append("; detail=vary-star");
    return;
  }
  entry->response_time = wall_seconds();
  cache::describe(*entry, *cache_.policy);  // again when complete; now to see if it is worth it
  if (entry->lifetime <= 0 && !entry->has_validator() && entry->stale_while_revalidate <= 0) {
    cache_.status.append("; detail=no-freshness");
    return;
  }
  cache_.capture = std::move(entry);
  cache_.status.append("; stored");
}

// A body that outgrows max_object midway is dropped from caching; the client sees nothing.
void Session::capture_body(std::string_view data) {
  if (!cache_.capture || data.empty()) return;
  if (cache_.capture->body.size() + data.size() > cache_.max_object) {
    cache_.capture.reset();
    cache_.release_lead();
    return;
  }
  cache_.capture->body.append(data);
}

// The relayed response is complete: store what was captured (Redis included, before the
// coalesced waiters are woken, so that they find it wherever they look).
asio::awaitable<void> Session::finish_capture(bool complete) {
  if (!cache_.active()) co_return;
  if (cache_.capture && complete) {
    cache::Entry& e = *cache_.capture;
    e.response_time = wall_seconds();
    cache::describe(e, *cache_.policy);
    cache::EntryPtr entry(std::move(cache_.capture));
    co_await cache_put(*cache_.cache, ctx_.redis.get(), cache_.key, std::move(entry));
    cache_.stored = true;
  }
  cache_.capture.reset();
  cache_.release_lead();
}

// RFC 9111 §4.4: a successful unsafe request invalidates its target URI, and the URIs of its
// Location and Content-Location when they have the same origin.
asio::awaitable<void> Session::invalidate_after_unsafe() {
  const CacheOptions& options = cache_.cache->options;
  cache::KeyOptions url_only = options.key;
  url_only.headers.clear();
  redis::Client* redis = ctx_.redis.get();
  // A URL's entries: its own key, and with configured fields every key that extends it.
  auto drop = [&](const std::string& key) -> asio::awaitable<void> {
    co_await cache_erase(*cache_.cache, redis, key, false);
    if (options.key.headers.empty()) co_return;
    std::string with_fields = key + "\n";
    co_await cache_erase(*cache_.cache, redis, with_fields, true);
  };
  co_await drop(cache_.invalidate_key);
  std::string key;
  for (const http::Header& h : response_.headers) {
    if (!iequals(h.name, "location") && !iequals(h.name, "content-location")) continue;
    std::string_view target = h.value;
    std::string_view host = cache_.request_host;
    if (target.starts_with("http://")) {
      std::string_view rest = target.substr(7);
      std::size_t slash = rest.find('/');
      host = rest.substr(0, slash);
      target = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
      if (!iequals(strip_port(host), strip_port(cache_.request_host))) continue;  // elsewhere
    } else if (!target.starts_with("/")) {
      continue;  // relative references other than absolute paths are left alone
    }
    cache::build_key(key, "http", host, target, {}, url_only);
    co_await drop(key);
  }
}

// Adds this request's extra fields and our member of Cache-Status (RFC 9211) to the head in
// out_, which ends at head_end. Inserted right before the blank line: nothing is allocated.
void Session::add_response_fields(std::size_t head_end) {
  if (head_end < 2) return;
  std::size_t at = head_end - 2;
  out_.insert(at, response_extras_);
  at += response_extras_.size();
  if (!cache_.active()) return;
  const std::string& via = runtime_.options.http.via;
  std::string_view name = via.empty() ? std::string_view("pier") : std::string_view(via);
  for (std::string_view piece : {std::string_view("Cache-Status: "), name, std::string_view("; "),
                                 std::string_view(cache_.status), std::string_view("\r\n")}) {
    out_.insert(at, piece);
    at += piece.size();
  }
}

}  // namespace pier::proxy
