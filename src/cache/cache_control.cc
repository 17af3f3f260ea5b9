#include "cache/cache_control.h"

#include "base/strings.h"

namespace pier::cache {
namespace {

// One directive: name [ "=" ( token / quoted-string ) ]. Commas inside a quoted string do not
// end the directive.
struct Directive {
  std::string_view name;
  std::string_view value;
  bool has_value = false;
};

class DirectiveReader {
 public:
  explicit DirectiveReader(std::string_view s) : s_(s) {}

  bool next(Directive& d) {
    for (;;) {
      skip_separators();
      if (pos_ >= s_.size()) return false;
      std::size_t start = pos_;
      while (pos_ < s_.size() && s_[pos_] != ',' && s_[pos_] != '=')
        ++pos_;
      d.name = trim_ows(s_.substr(start, pos_ - start));
      d.value = {};
      d.has_value = pos_ < s_.size() && s_[pos_] == '=';
      if (d.has_value) read_value(d);
      skip_to_comma();
      if (!d.name.empty()) return true;
    }
  }

 private:
  void skip_separators() {
    while (pos_ < s_.size() && (s_[pos_] == ',' || s_[pos_] == ' ' || s_[pos_] == '\t'))
      ++pos_;
  }
  void skip_to_comma() {
    while (pos_ < s_.size() && s_[pos_] != ',')
      ++pos_;
  }
  void read_value(Directive& d) {
    ++pos_;  // '='
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t'))
      ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '"') {
      std::size_t start = ++pos_;
      while (pos_ < s_.size() && s_[pos_] != '"') {
        if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
        ++pos_;
      }
      d.value = s_.substr(start, pos_ - start);
      if (pos_ < s_.size()) ++pos_;  // closing quote
      return;
    }
    std::size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != ',')
      ++pos_;
    d.value = trim_ows(s_.substr(start, pos_ - start));
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

// A freshness directive (max-age, s-maxage): malformed or repeated differently → conflicting.
void set_freshness(std::optional<std::int64_t>& slot, const Directive& d, CacheControl& cc) {
  auto value = d.has_value ? parse_delta_seconds(d.value) : std::nullopt;
  if (!value || (slot && *slot != *value)) {
    cc.conflicting_freshness = true;
    slot = 0;
    return;
  }
  slot = value;
}

// Other delta-seconds directives: a malformed one is ignored; the first occurrence wins.
void set_delta(std::optional<std::int64_t>& slot, const Directive& d) {
  if (slot) return;
  if (auto value = d.has_value ? parse_delta_seconds(d.value) : std::nullopt) slot = value;
}

void apply(const Directive& d, CacheControl& cc) {
  const std::string_view n = d.name;
  if (iequals(n, "no-store")) {
    cc.no_store = true;
  } else if (iequals(n, "no-cache")) {
    cc.no_cache = true;
  } else if (iequals(n, "private")) {
    cc.is_private = true;
  } else if (iequals(n, "public")) {
    cc.is_public = true;
  } else if (iequals(n, "must-revalidate")) {
    cc.must_revalidate = true;
  } else if (iequals(n, "proxy-revalidate")) {
    cc.proxy_revalidate = true;
  } else if (iequals(n, "only-if-cached")) {
    cc.only_if_cached = true;
  } else if (iequals(n, "max-age")) {
    set_freshness(cc.max_age, d, cc);
  } else if (iequals(n, "s-maxage")) {
    set_freshness(cc.s_maxage, d, cc);
  } else if (iequals(n, "stale-while-revalidate")) {
    set_delta(cc.stale_while_revalidate, d);
  } else if (iequals(n, "stale-if-error")) {
    set_delta(cc.stale_if_error, d);
  } else if (iequals(n, "min-fresh")) {
    set_delta(cc.min_fresh, d);
  } else if (iequals(n, "max-stale")) {
    if (!d.has_value) {
      cc.max_stale = kMaxDelta;
    } else {
      set_delta(cc.max_stale, d);
    }
  }
}

}  // namespace

std::optional<std::int64_t> parse_delta_seconds(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
    if (value > kMaxDelta) value = kMaxDelta;  // keeps accumulating without overflow
  }
  return value;
}

CacheControl parse_cache_control(const http::HeaderList& headers) {
  CacheControl cc;
  for (const http::Header& h : headers) {
    if (!iequals(h.name, "cache-control")) continue;
    DirectiveReader reader(h.value);
    Directive d;
    while (reader.next(d))
      apply(d, cc);
  }
  return cc;
}

}  // namespace pier::cache
