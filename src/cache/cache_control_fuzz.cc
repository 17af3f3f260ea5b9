// libFuzzer target: Cache-Control and HTTP-date parsing, the two cache inputs a backend writes.
// The input is split at its first NUL: before it, a Cache-Control value (also split into two
// field lines at a comma, which must read the same as one line); after it, a date. A date that
// parses must format to an IMF-fixdate that parses back to the same second.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cache/cache_control.h"
#include "cache/http_date.h"
#include "http/fuzz_support.h"

namespace {

using pier::cache::CacheControl;

bool same(const CacheControl& a, const CacheControl& b) {
  return a.no_store == b.no_store && a.no_cache == b.no_cache && a.max_age == b.max_age &&
         a.is_private == b.is_private && a.is_public == b.is_public &&
         a.must_revalidate == b.must_revalidate && a.proxy_revalidate == b.proxy_revalidate &&
         a.s_maxage == b.s_maxage && a.stale_while_revalidate == b.stale_while_revalidate &&
         a.stale_if_error == b.stale_if_error && a.max_stale == b.max_stale &&
         a.min_fresh == b.min_fresh && a.only_if_cached == b.only_if_cached &&
         a.conflicting_freshness == b.conflicting_freshness;
}

void check_delta(const std::optional<std::int64_t>& v) {
  if (v) FUZZ_CHECK(*v >= 0 && *v <= pier::cache::kMaxDelta);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::size_t nul = in.find('\0');
  std::string_view value = in.substr(0, nul);
  std::string_view date = nul == std::string_view::npos ? in : in.substr(nul + 1);

  pier::http::HeaderList one{{"Cache-Control", value}};
  CacheControl whole = pier::cache::parse_cache_control(one);
  for (const auto& v : {whole.max_age, whole.s_maxage, whole.stale_while_revalidate,
                        whole.stale_if_error, whole.max_stale, whole.min_fresh}) {
    check_delta(v);
  }
  // A list split between two field lines at a comma outside quotes reads the same (RFC 9110
  // §5.3), as long as neither half is left with an unbalanced quote.
  std::size_t comma = value.find(',');
  if (comma != std::string_view::npos &&
      value.substr(0, comma).find('"') == std::string_view::npos) {
    pier::http::HeaderList two{{"Cache-Control", value.substr(0, comma)},
                               {"Cache-Control", value.substr(comma + 1)}};
    FUZZ_CHECK(same(whole, pier::cache::parse_cache_control(two)));
  }

  if (std::optional<std::int64_t> seconds = pier::cache::parse_http_date(date)) {
    std::string formatted = pier::cache::format_http_date(*seconds);
    FUZZ_CHECK(pier::cache::parse_http_date(formatted) == seconds);
  }
  return 0;
}
