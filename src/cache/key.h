// The cache key of a request: scheme, host, path and query, normalised as configured.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/headers.h"

namespace pier::cache {

struct KeyOptions {
  std::vector<std::string> ignore_query;  // parameter names left out of the key (utm_source...)
  bool sort_query = false;                // "b=1&a=2" and "a=2&b=1" are one key
  std::vector<std::string> headers;       // request fields whose values join the key
};

// "http://example.com/path?query" (host lower-cased, a default port dropped), then for each
// configured header "\n" name ":" value. Reuses `out`'s capacity.
void build_key(std::string& out, std::string_view scheme, std::string_view host,
               std::string_view target, const http::HeaderList& request, const KeyOptions& options);

}  // namespace pier::cache
