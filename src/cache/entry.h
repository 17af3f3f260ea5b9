// A stored response: what the cache keeps of it and the facts its freshness is judged by.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pier::cache {

struct StoredField {
  std::string name;
  std::string value;
};

struct Entry {
  int status = 200;
  std::string reason;
  // End-to-end fields as received, minus the ones never stored (policy.h: is_stored_field).
  std::vector<StoredField> headers;
  std::string body;  // de-chunked: served with Content-Length
  // The selecting request fields (Vary): lower-case name and normalised value.
  std::vector<StoredField> vary;

  // Wall-clock seconds (RFC 9111 §4.2.3's request_time and response_time).
  std::int64_t request_time = 0;
  std::int64_t response_time = 0;
  std::int64_t age_value = 0;  // the Age field received with it

  // Derived from the fields by describe() (policy.h) when stored or updated by a 304.
  std::int64_t lifetime = 0;     // freshness lifetime, seconds
  std::int64_t initial_age = 0;  // corrected_initial_age
  std::int64_t stale_while_revalidate = 0;
  std::int64_t stale_if_error = 0;
  bool no_cache = false;         // every use needs revalidation
  bool must_revalidate = false;  // must-revalidate, proxy-revalidate or s-maxage: never stale
  std::string etag;
  std::string last_modified;
  std::int64_t last_modified_time = -1;  // parsed, -1 when absent or invalid

  std::int64_t current_age(std::int64_t now) const {
    return initial_age + (now > response_time ? now - response_time : 0);
  }
  bool has_validator() const { return !etag.empty() || !last_modified.empty(); }
  std::size_t bytes() const {
    std::size_t n = sizeof(Entry) + body.size() + reason.size();
    for (const auto& f : headers)
      n += sizeof(StoredField) + f.name.size() + f.value.size();
    for (const auto& f : vary)
      n += sizeof(StoredField) + f.name.size() + f.value.size();
    return n + etag.size() + last_modified.size();
  }
};

using EntryPtr = std::shared_ptr<const Entry>;

}  // namespace pier::cache
