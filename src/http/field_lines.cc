#include "http/field_lines.h"

#include <cstring>

#include "base/strings.h"
#include "base/units.h"
#include "http/headers.h"

namespace pier::http::detail {
namespace {

// field-vchar / SP / HTAB (RFC 9110 §5.5); CTLs, including NUL, bare CR and DEL, are refused.
bool is_value_char(unsigned char c) {
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

}  // namespace

bool split_head(std::string_view head, std::string_view& first_line, std::string_view& fields) {
  std::size_t lf = head.find('\n');
  if (lf == std::string_view::npos || lf < 1 || head[lf - 1] != '\r' || head.size() < lf + 3 ||
      !head.ends_with("\r\n\r\n")) {
    return false;
  }
  first_line = head.substr(0, lf - 1);
  fields = head.substr(lf + 1, head.size() - (lf + 1) - 2);
  return true;
}

ParseError parse_field_lines(std::string_view block, std::size_t max_headers, MessageCommon& out) {
  while (!block.empty()) {
    std::size_t lf = block.find('\n');
    // HeadScanner guarantees CRLF endings; checked again so the parser is safe on its own.
    if (lf == std::string_view::npos || lf < 2 || block[lf - 1] != '\r') {
      return {400, "malformed header line"};
    }
    std::string_view line = block.substr(0, lf - 1);
    block.remove_prefix(lf + 1);
    if (line.front() == ' ' || line.front() == '\t') return {400, "obsolete line folding"};
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return {400, "header line without a colon"};
    std::string_view name = line.substr(0, colon);
    if (!is_token(name)) return {400, "invalid header name (whitespace before colon?)"};
    std::string_view value = line.substr(colon + 1);
    for (unsigned char c : value) {
      if (!is_value_char(c)) return {400, "invalid character in header value"};
    }
    if (out.headers.size() >= max_headers) return {431, "too many header fields"};
    out.headers.push_back({name, trim_ows(value)});
  }
  return {};
}

ParseError collect_content_length(const HeaderList& headers, bool& present, std::uint64_t& value) {
  present = false;
  for (const Header& h : headers) {
    if (!iequals(h.name, "content-length")) continue;
    CommaList list(h.value);
    std::string_view item;
    bool any = false;
    while (list.next(item)) {
      any = true;
      auto n = parse_uint(item);
      if (!n) return {400, "invalid Content-Length"};
      if (present && *n != value) return {400, "conflicting Content-Length values"};
      present = true;
      value = *n;
    }
    if (!any) return {400, "empty Content-Length"};
  }
  return {};
}

bool parse_version(std::string_view text, int& minor) {
  if (text == "HTTP/1.1") {
    minor = 1;
    return true;
  }
  if (text == "HTTP/1.0") {
    minor = 0;
    return true;
  }
  return false;
}

namespace {

// A field named in Connection is removed before forwarding (hop-by-hop), so Connection must not
// name one that frames or routes the message: the proxy would frame by a field the next hop never
// sees (RFC 9110 §7.6.1: such a field must not be listed).
bool frames_or_routes(std::string_view token) {
  return iequals(token, "content-length") || iequals(token, "transfer-encoding") ||
         iequals(token, "host");
}

}  // namespace

ParseError read_connection(MessageCommon& out) {
  bool close = false;
  bool keep_alive = false;
  for (const Header& h : out.headers) {
    if (!iequals(h.name, "connection")) continue;
    CommaList list(h.value);
    std::string_view token;
    while (list.next(token)) {
      if (!is_token(token)) return {400, "invalid Connection option"};
      if (frames_or_routes(token)) return {400, "Connection names a framing or routing field"};
      if (iequals(token, "close")) close = true;
      if (iequals(token, "keep-alive")) keep_alive = true;
      out.connection_tokens.push_back(token);
    }
  }
  out.keep_alive = !close && (out.version_minor >= 1 || keep_alive);
  return {};
}

}  // namespace pier::http::detail
