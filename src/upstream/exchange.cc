#include "upstream/exchange.h"

#include "http/response_parser.h"
#include "net/io.h"

namespace pier::upstream {

using net::kNoThrow;

asio::awaitable<std::error_code> Exchange::connect(const asio::ip::tcp::endpoint& backend) {
  auto [ec] = co_await stream_.async_connect(backend, kNoThrow);
  if (!ec) stream_.no_delay();
  co_return ec;
}

asio::awaitable<HeadOutcome> Exchange::read_head(http::Method method, std::size_t max_headers,
                                                 http::ResponseHead& out) {
  for (;;) {
    if (std::optional<HeadOutcome> done = scan(method, max_headers, out)) co_return *done;
    auto [ec, n] = co_await read_some();
    if (!received(ec, n)) co_return HeadOutcome{HeadEnd::Closed, {}};
  }
}

// What the buffer holds so far: a verdict, or nullopt to read more (there is room for it:
// scan_head() compacted the buffer).
std::optional<HeadOutcome> Exchange::scan(http::Method method, std::size_t max_headers,
                                          http::ResponseHead& out) {
  std::optional<HeadOutcome> verdict = scan_head(method, max_headers, out);
  if (verdict) return verdict;
  if (in_.write_space() == 0) return HeadOutcome{HeadEnd::TooLarge, "response head too large"};
  return std::nullopt;
}

std::optional<HeadOutcome> Exchange::scan_head(http::Method method, std::size_t max_headers,
                                               http::ResponseHead& out) {
  if (in_.empty()) return std::nullopt;
  in_.compact();  // the head's views then stay put while it grows
  http::ScanStatus status = scanner_.scan(in_.readable());
  if (status == http::ScanStatus::Complete) {
    std::string_view head = in_.readable().substr(0, scanner_.head_size());
    if (auto error = http::parse_response_head(head, method, max_headers, out)) {
      return HeadOutcome{HeadEnd::Malformed, error.reason};
    }
    bool final = out.status >= 200 || out.status == 101;
    return HeadOutcome{final ? HeadEnd::Final : HeadEnd::Interim, {}};
  }
  if (status == http::ScanStatus::LineTooLong || status == http::ScanStatus::HeadTooLarge) {
    return HeadOutcome{HeadEnd::TooLarge, "response head too large"};
  }
  if (status != http::ScanStatus::Incomplete) {
    return HeadOutcome{HeadEnd::Malformed, "malformed response head"};
  }
  // A status line that cannot be HTTP is refused before the rest of the head arrives.
  std::size_t line_size = scanner_.first_line_size();
  if (line_size > 0 && http::check_status_line(in_.readable().substr(0, line_size))) {
    return HeadOutcome{HeadEnd::Malformed, "malformed status line"};
  }
  return std::nullopt;
}

void Exchange::skip_head() {
  in_.consume(scanner_.head_size());
  scanner_.reset();
}

}  // namespace pier::upstream
