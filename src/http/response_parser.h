// HTTP/1.1 response head parser (RFC 9112 §4, §6.3 for the body length).
#pragma once

#include <cstddef>
#include <string_view>

#include "http/message.h"

namespace pier::http {

// `head` is a complete head. `request_method` decides framing: a response to HEAD has no body.
ParseError parse_response_head(std::string_view head, Method request_method,
                               std::size_t max_headers, ResponseHead& out);

// The status line alone (without CRLF), checked as soon as it is complete: a backend that sends
// no valid status line (HTTP/0.9, or not HTTP) is refused at once, not at the header timeout.
ParseError check_status_line(std::string_view line);

}  // namespace pier::http
