#include "proxy/cache_storage.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

#include "cache/entry_codec.h"
#include "proxy/session_cache.h"

namespace pier::proxy {
namespace {

using cache::Decoded;
using cache::EntryPtr;

// Redis glob patterns treat these bytes as special.
std::string glob_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (char c : s) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// GET and decode; a value that does not decode is deleted and reads as nothing.
asio::awaitable<std::optional<Decoded>> get_decoded(redis::Client& redis, const std::string& key) {
  std::array<std::string_view, 2> get{"GET", key};
  redis::Reply reply = co_await redis.call(get);
  if (reply.type != redis::Reply::Type::String) co_return std::nullopt;  // nil, or Redis failed
  auto decoded = cache::decode(reply.str);
  if (!decoded) {
    spdlog::warn("cache: malformed entry in Redis at {:?} ({} bytes): deleted", key,
                 reply.str.size());
    redis.send({"DEL", key});
  }
  co_return decoded;
}

asio::awaitable<EntryPtr> find_in_redis(const SharedCache& cache, redis::Client& redis,
                                        std::string_view key, const http::HeaderList& request,
                                        const cache::PolicyOptions& policy, bool* any_variant) {
  std::string redis_key = cache.options.prefix;
  redis_key.append(key);
  auto decoded = co_await get_decoded(redis, redis_key);
  if (!decoded) co_return nullptr;
  if (any_variant) *any_variant = true;
  if (decoded->kind == Decoded::Kind::VaryMarker) {
    std::vector<cache::StoredField> selection;
    for (const std::string& name : decoded->vary_names)
      selection.push_back({name, cache::vary_value(request, name)});
    std::string variant = cache::variant_key(redis_key, selection);
    decoded = co_await get_decoded(redis, variant);
    if (!decoded || decoded->kind != Decoded::Kind::Entry) co_return nullptr;
  }
  auto entry = std::make_shared<cache::Entry>(std::move(decoded->entry));
  if (!cache::vary_matches(*entry, request)) co_return nullptr;
  cache::describe(*entry, policy);
  co_return entry;
}

}  // namespace

std::int64_t redis_ttl_seconds(const cache::Entry& e, std::int64_t now) {
  std::int64_t remaining = std::max<std::int64_t>(0, e.lifetime - e.current_age(now));
  std::int64_t stale_window = std::max(e.stale_while_revalidate, e.stale_if_error);
  std::int64_t revalidation = e.has_validator() ? std::max<std::int64_t>(e.lifetime, 60) : 0;
  return remaining + stale_window + revalidation;
}

asio::awaitable<EntryPtr> cache_find(SharedCache& cache, redis::Client* redis, std::string_view key,
                                     const http::HeaderList& request,
                                     const cache::PolicyOptions& policy, bool* any_variant) {
  if (cache.memory) {
    if (EntryPtr e = cache.memory->find(key, request, any_variant)) co_return e;
  }
  if (!cache.options.uses_redis() || redis == nullptr) co_return nullptr;
  EntryPtr e = co_await find_in_redis(cache, *redis, key, request, policy, any_variant);
  if (e && cache.memory) cache.memory->put(key, e);  // tiered: the next hit stays in process
  co_return e;
}

asio::awaitable<void> cache_put(SharedCache& cache, redis::Client* redis, std::string_view key,
                                EntryPtr entry) {
  if (cache.memory) cache.memory->put(key, entry);
  if (!cache.options.uses_redis() || redis == nullptr) co_return;
  std::int64_t ttl = redis_ttl_seconds(*entry, wall_seconds());
  if (ttl <= 0) co_return;
  std::string ttl_text = std::to_string(ttl);
  std::string redis_key = cache.options.prefix;
  redis_key.append(key);
  std::string encoded = cache::encode_entry(*entry);
  if (entry->vary.empty()) {
    std::array<std::string_view, 5> set{"SET", redis_key, encoded, "EX", ttl_text};
    co_await redis->call(set);
    co_return;
  }
  std::vector<std::string> names;
  for (const auto& f : entry->vary)
    names.push_back(f.name);
  redis->send({"SET", redis_key, cache::encode_vary_marker(names), "EX", ttl_text});
  std::string variant = cache::variant_key(redis_key, entry->vary);
  std::array<std::string_view, 5> set{"SET", variant, encoded, "EX", ttl_text};
  co_await redis->call(set);
}

asio::awaitable<std::size_t> cache_erase(SharedCache& cache, redis::Client* redis,
                                         std::string_view key, bool prefix) {
  std::size_t removed = 0;
  if (cache.memory) {
    removed += prefix ? cache.memory->erase_prefix(key) : (cache.memory->erase(key) ? 1 : 0);
  }
  if (!cache.options.uses_redis() || redis == nullptr) co_return removed;
  std::string redis_key = cache.options.prefix;
  redis_key.append(key);
  if (!prefix) {
    // The URL's entry, or its Vary marker: without the marker its variants are unreachable, and
    // they expire on their own.
    std::array<std::string_view, 2> del{"DEL", redis_key};
    redis::Reply reply = co_await redis->call(del);
    if (reply.type == redis::Reply::Type::Integer)
      removed += static_cast<std::size_t>(reply.integer);
  } else {
    std::string pattern = glob_escape(redis_key) + "*";
    std::string cursor = "0";
    do {
      std::array<std::string_view, 6> scan{"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"};
      redis::Reply page = co_await redis->call(scan);
      if (page.type != redis::Reply::Type::Array || page.elements.size() != 2) break;
      cursor = page.elements[0].str;
      std::vector<std::string_view> del{"DEL"};
      for (const auto& k : page.elements[1].elements)
        del.push_back(k.str);
      if (del.size() > 1) {
        redis::Reply reply = co_await redis->call(del);
        if (reply.type == redis::Reply::Type::Integer)
          removed += static_cast<std::size_t>(reply.integer);
      }
    } while (cursor != "0");
  }
  if (cache.memory) {
    std::string payload = redis_key;
    if (prefix) payload.push_back('*');
    redis->send({"PUBLISH", kPurgeChannel, payload});
  }
  co_return removed;
}

void apply_fleet_purge(const Runtime& runtime, std::string_view redis_key) {
  bool prefix = redis_key.ends_with('*');
  if (prefix) redis_key.remove_suffix(1);
  for (const auto& cache : runtime.caches) {
    if (!cache->memory || !cache->options.uses_redis()) continue;
    if (!redis_key.starts_with(cache->options.prefix)) continue;
    std::string_view key = redis_key.substr(cache->options.prefix.size());
    if (prefix) {
      cache->memory->erase_prefix(key);
    } else {
      cache->memory->erase(key);
    }
  }
}

}  // namespace pier::proxy
