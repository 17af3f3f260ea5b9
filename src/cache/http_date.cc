#include "cache/http_date.h"

#include <array>
#include <cstdio>

#include "base/strings.h"

namespace pier::cache {
namespace {

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> kDays = {
    "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};  // 1970-01-01 was a Thursday

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
}

// A cursor over the date text; every reader returns false on a mismatch.
struct Cursor {
  std::string_view s;
  bool literal(std::string_view lit) {
    if (!s.starts_with(lit)) return false;
    s.remove_prefix(lit.size());
    return true;
  }
  bool number(int digits, int& out) {
    if (s.size() < static_cast<std::size_t>(digits)) return false;
    out = 0;
    for (int i = 0; i < digits; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    s.remove_prefix(digits);
    return true;
  }
  bool month(unsigned& out) {
    for (unsigned i = 0; i < kMonths.size(); ++i) {
      if (literal(kMonths[i])) {
        out = i + 1;
        return true;
      }
    }
    return false;
  }
  bool time_of_day(int& h, int& mi, int& sec) {
    return number(2, h) && literal(":") && number(2, mi) && literal(":") && number(2, sec);
  }
  bool skip_day_name(char end) {
    std::size_t pos = s.find(end);
    if (pos == std::string_view::npos || pos < 3 || pos > 9) return false;
    s.remove_prefix(pos + 1);
    return true;
  }
};

std::optional<std::int64_t> make_time(std::int64_t year, unsigned month, int day, int h, int mi,
                                      int sec) {
  if (day < 1 || day > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  std::int64_t days = days_from_civil(year, month, static_cast<unsigned>(day));
  return days * 86400 + h * 3600 + mi * 60 + sec;
}

std::optional<std::int64_t> parse_imf_fixdate(Cursor c) {
  int day, year, h, mi, sec;
  unsigned month;
  if (!c.skip_day_name(',') || !c.literal(" ") || !c.number(2, day) || !c.literal(" ") ||
      !c.month(month) || !c.literal(" ") || !c.number(4, year) || !c.literal(" ") ||
      !c.time_of_day(h, mi, sec) || !c.literal(" GMT") || !c.s.empty()) {
    return std::nullopt;
  }
  return make_time(year, month, day, h, mi, sec);
}

// RFC 9110 §5.6.7: a two-digit year more than 50 years in the future is in the past century.
// Judged against 2000 + yy so that the result does not depend on today's date.
std::optional<std::int64_t> parse_rfc850(Cursor c) {
  int day, yy, h, mi, sec;
  unsigned month;
  if (!c.skip_day_name(',') || !c.literal(" ") || !c.number(2, day) || !c.literal("-") ||
      !c.month(month) || !c.literal("-") || !c.number(2, yy) || !c.literal(" ") ||
      !c.time_of_day(h, mi, sec) || !c.literal(" GMT") || !c.s.empty()) {
    return std::nullopt;
  }
  int year = yy < 70 ? 2000 + yy : 1900 + yy;
  return make_time(year, month, day, h, mi, sec);
}

std::optional<std::int64_t> parse_asctime(Cursor c) {
  int day, year, h, mi, sec;
  unsigned month;
  if (!c.skip_day_name(' ') || !c.month(month) || !c.literal(" ")) return std::nullopt;
  if (c.literal(" ")) {
    if (!c.number(1, day)) return std::nullopt;
  } else if (!c.number(2, day)) {
    return std::nullopt;
  }
  if (!c.literal(" ") || !c.time_of_day(h, mi, sec) || !c.literal(" ") || !c.number(4, year) ||
      !c.s.empty()) {
    return std::nullopt;
  }
  return make_time(year, month, day, h, mi, sec);
}

}  // namespace

std::optional<std::int64_t> parse_http_date(std::string_view text) {
  text = trim_ows(text);
  if (auto t = parse_imf_fixdate(Cursor{text})) return t;
  if (auto t = parse_rfc850(Cursor{text})) return t;
  return parse_asctime(Cursor{text});
}

std::string format_http_date(std::int64_t seconds) {
  std::int64_t days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400;
  std::int64_t rest = seconds - days * 86400;
  std::int64_t year;
  unsigned month, day;
  civil_from_days(days, year, month, day);
  std::string_view weekday = kDays[static_cast<std::size_t>(((days % 7) + 7) % 7)];
  char out[40];
  int n = std::snprintf(out, sizeof out, "%.*s, %02u %.*s %04lld %02lld:%02lld:%02lld GMT",
                        static_cast<int>(weekday.size()), weekday.data(), day,
                        static_cast<int>(kMonths[month - 1].size()), kMonths[month - 1].data(),
                        static_cast<long long>(year), static_cast<long long>(rest / 3600),
                        static_cast<long long>(rest / 60 % 60), static_cast<long long>(rest % 60));
  return std::string(out, static_cast<std::size_t>(n));
}

}  // namespace pier::cache
