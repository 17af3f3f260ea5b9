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

}  // namespace pier::http
