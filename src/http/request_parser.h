// HTTP/1.1 request head parser (RFC 9112), strict about anything that enables request smuggling.
#pragma once

#include <cstddef>
#include <string_view>

#include "http/message.h"

namespace pier::http {

struct RequestLimits {
  std::size_t max_headers = 100;
};

// `head` is a complete head as found by HeadScanner (ending in CRLF CRLF).
ParseError parse_request_head(std::string_view head, const RequestLimits& limits, RequestHead& out);

// The request line alone (without CRLF), checked as soon as it is complete: a line that can
// never begin a valid head (the HTTP/0.9 form "GET /path" has no version and no header section
// to wait for) is refused at once instead of at the head timeout.
ParseError check_request_line(std::string_view line);

}  // namespace pier::http
