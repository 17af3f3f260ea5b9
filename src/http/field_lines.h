// Shared by the request and response parsers: header field lines and the framing headers.
#pragma once

#include <cstddef>
#include <string_view>

#include "http/message.h"

namespace pier::http::detail {

// Splits a complete head into its first line (without CRLF) and its field lines (each with its
// CRLF, the blank line excluded). False when the head is not CRLF-terminated as HeadScanner
// guarantees: the parsers check it again so that they are safe on their own.
bool split_head(std::string_view head, std::string_view& first_line, std::string_view& fields);

// Parses the field lines of `block` (each ending in CRLF; the blank line excluded) into `out`.
ParseError parse_field_lines(std::string_view block, std::size_t max_headers, MessageCommon& out);

// Content-Length values of all fields: equal duplicates are one value, differing ones an error.
ParseError collect_content_length(const HeaderList& headers, bool& present, std::uint64_t& value);

// Splits "HTTP/1.x" into the minor version; false if not HTTP/1.0 or HTTP/1.1 exactly.
bool parse_version(std::string_view text, int& minor);

// Fills connection_tokens and keep_alive from the Connection fields and the version.
ParseError read_connection(MessageCommon& out);

}  // namespace pier::http::detail
