// Shared by the request and response parsers: header field lines and the framing headers.
#pragma once

#include <cstddef>
#include <string_view>

#include "http/message.h"

namespace pier::http::detail {

// Parses the field lines of `block` (each ending in CRLF; the blank line excluded) into `out`.
ParseError parse_field_lines(std::string_view block, std::size_t max_headers, MessageCommon& out);

// Content-Length values of all fields: equal duplicates are one value, differing ones an error.
ParseError collect_content_length(const HeaderList& headers, bool& present, std::uint64_t& value);

// Splits "HTTP/1.x" into the minor version; false if not HTTP/1.0 or HTTP/1.1 exactly.
bool parse_version(std::string_view text, int& minor);

// Fills connection_tokens and keep_alive from the Connection fields and the version.
void read_connection(MessageCommon& out);

}  // namespace pier::http::detail
