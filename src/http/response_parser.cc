#include "http/response_parser.h"

#include "base/strings.h"
#include "http/field_lines.h"

namespace pier::http {
namespace {

using detail::collect_content_length;
using detail::parse_field_lines;
using detail::parse_version;
using detail::read_connection;

ParseError parse_status_line(std::string_view line, ResponseHead& out) {
  // "HTTP/1.1 200 OK": the reason may be empty, and the space before it is then optional.
  if (line.size() < 12 || line[8] != ' ') return {502, "malformed status line"};
  if (!parse_version(line.substr(0, 8), out.version_minor)) return {502, "bad response version"};
  int status = 0;
  for (int i = 9; i < 12; ++i) {
    char c = line[i];
    if (c < '0' || c > '9') return {502, "malformed status code"};
    status = status * 10 + (c - '0');
  }
  if (status < 100 || status > 599) return {502, "status code out of range"};
  if (line.size() > 12 && line[12] != ' ') return {502, "malformed status line"};
  out.status = status;
  out.reason = line.size() > 13 ? line.substr(13) : std::string_view();
  // HTAB, SP, VCHAR and obs-text (RFC 9112 §4): no CTL, and so no DEL either.
  for (unsigned char c : out.reason) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return {502, "invalid character in reason phrase"};
  }
  return {};
}

bool status_has_body(int status) {
  return status >= 200 && status != 204 && status != 304;
}

// RFC 9112 §6.3, with the ambiguous cases treated as errors rather than guessed.
ParseError read_framing(Method request_method, ResponseHead& out) {
  bool has_te = false;
  bool final_chunked = false;
  for (const Header& h : out.headers) {
    if (!iequals(h.name, "transfer-encoding")) continue;
    has_te = true;
    CommaList list(h.value);
    std::string_view coding;
    while (list.next(coding))
      final_chunked = iequals(coding, "chunked");
  }
  bool has_cl = false;
  if (auto e = collect_content_length(out.headers, has_cl, out.content_length)) {
    return {502, e.reason};
  }
  if (request_method == Method::Head || !status_has_body(out.status)) {
    out.framing = Framing::None;
    return {};
  }
  if (has_te && has_cl) return {502, "both Content-Length and Transfer-Encoding"};
  if (has_te) {
    out.framing = final_chunked ? Framing::Chunked : Framing::UntilClose;
    if (!final_chunked) out.keep_alive = false;
  } else if (has_cl) {
    out.framing = out.content_length > 0 ? Framing::ContentLength : Framing::None;
  } else {
    out.framing = Framing::UntilClose;
    out.keep_alive = false;
  }
  return {};
}

}  // namespace

ParseError check_status_line(std::string_view line) {
  ResponseHead scratch;
  return parse_status_line(line, scratch);
}

ParseError parse_response_head(std::string_view head, Method request_method,
                               std::size_t max_headers, ResponseHead& out) {
  out.clear();
  std::string_view line;
  std::string_view fields;
  if (!detail::split_head(head, line, fields)) return {502, "incomplete head"};
  if (auto e = parse_status_line(line, out)) return e;
  if (auto e = parse_field_lines(fields, max_headers, out)) return {502, e.reason};
  if (auto e = read_connection(out)) return {502, e.reason};
  return read_framing(request_method, out);
}

}  // namespace pier::http
