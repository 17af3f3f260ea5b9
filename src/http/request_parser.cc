#include "http/request_parser.h"

#include "base/strings.h"
#include "http/field_lines.h"

namespace pier::http {
namespace {

using detail::collect_content_length;
using detail::parse_field_lines;
using detail::parse_version;
using detail::read_connection;

bool is_target_char(unsigned char c) {
  return c > 0x20 && c < 0x7f;
}

bool is_host_char(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-._~!$&'()*+,;=:[]%").find(static_cast<char>(c)) !=
         std::string_view::npos;
}

bool valid_host(std::string_view host) {
  for (unsigned char c : host) {
    if (!is_host_char(c)) return false;
  }
  return true;
}

ParseError parse_request_line(std::string_view line, RequestHead& out) {
  std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return {400, "malformed request line"};
  std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return {400, "malformed request line"};
  out.method_token = line.substr(0, sp1);
  out.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!is_token(out.method_token)) return {400, "invalid method"};
  if (out.target.empty()) return {400, "empty request target"};
  for (unsigned char c : out.target) {
    if (!is_target_char(c)) return {400, "invalid character in request target"};
  }
  if (!parse_version(version, out.version_minor)) {
    bool looks_like_http = version.size() == 8 && version.substr(0, 5) == "HTTP/";
    return looks_like_http ? ParseError{505, "HTTP version not supported"}
                           : ParseError{400, "malformed request line"};
  }
  out.method = method_from_token(out.method_token);
  return {};
}

// Absolute-form ("http://host/path") becomes host + origin-form (RFC 9112 §3.2.2).
ParseError split_absolute_target(RequestHead& out) {
  std::string_view t = out.target;
  std::size_t scheme_end = t.find("://");
  if (scheme_end == std::string_view::npos) return {400, "invalid request target"};
  out.scheme = t.substr(0, scheme_end);
  if (!iequals(out.scheme, "http") && !iequals(out.scheme, "https")) {
    return {400, "unsupported scheme in request target"};
  }
  std::string_view rest = t.substr(scheme_end + 3);
  std::size_t path = rest.find('/');
  if (rest.find('?') < path) return {400, "invalid request target"};
  out.host = rest.substr(0, path);
  out.target = path == std::string_view::npos ? std::string_view("/") : rest.substr(path);
  if (out.host.empty() || !valid_host(out.host)) return {400, "invalid host in request target"};
  return {};
}

ParseError read_host(RequestHead& out) {
  const Header* host = nullptr;
  for (const Header& h : out.headers) {
    if (!iequals(h.name, "host")) continue;
    if (host != nullptr) return {400, "more than one Host header"};
    host = &h;
  }
  if (host == nullptr && out.version_minor >= 1) return {400, "missing Host header"};
  if (host != nullptr && !valid_host(host->value)) return {400, "invalid Host header"};
  if (out.target.front() == '/') {
    if (host != nullptr) out.host = host->value;
    return {};
  }
  if (out.target == "*") {
    if (out.method != Method::Options) return {400, "asterisk target outside OPTIONS"};
    if (host != nullptr) out.host = host->value;
    return {};
  }
  return split_absolute_target(out);  // the Host header is ignored for absolute-form
}

// Only a lone "chunked" is accepted: other codings in a request are a smuggling risk we refuse.
ParseError read_framing(RequestHead& out) {
  bool has_te = false;
  int codings = 0;
  bool chunked = false;
  for (const Header& h : out.headers) {
    if (!iequals(h.name, "transfer-encoding")) continue;
    has_te = true;
    CommaList list(h.value);
    std::string_view coding;
    while (list.next(coding)) {
      ++codings;
      chunked = iequals(coding, "chunked");
    }
  }
  bool has_cl = false;
  if (auto e = collect_content_length(out.headers, has_cl, out.content_length)) return e;
  if (has_te) {
    if (out.version_minor == 0) return {400, "Transfer-Encoding in an HTTP/1.0 request"};
    if (has_cl) return {400, "both Content-Length and Transfer-Encoding"};
    if (codings != 1 || !chunked) return {400, "Transfer-Encoding other than chunked"};
    out.framing = Framing::Chunked;
  } else if (has_cl && out.content_length > 0) {
    out.framing = Framing::ContentLength;
  }
  return {};
}

ParseError read_expect_and_upgrade(RequestHead& out) {
  bool upgrade_header = false;
  for (const Header& h : out.headers) {
    if (iequals(h.name, "expect")) {
      if (!iequals(h.value, "100-continue")) return {417, "unsupported expectation"};
      out.expect_continue = out.version_minor >= 1;
    } else if (iequals(h.name, "upgrade")) {
      upgrade_header = true;
    }
  }
  out.upgrade = upgrade_header && named_in_connection("upgrade", out.connection_tokens);
  return {};
}

}  // namespace

ParseError parse_request_head(std::string_view head, const RequestLimits& limits,
                              RequestHead& out) {
  out.clear();
  std::string_view line;
  std::string_view fields;
  if (!detail::split_head(head, line, fields)) return {400, "incomplete head"};
  if (auto e = parse_request_line(line, out)) return e;
  if (auto e = parse_field_lines(fields, limits.max_headers, out)) return e;
  if (auto e = read_connection(out)) return e;
  if (auto e = read_host(out)) return e;
  if (auto e = read_framing(out)) return e;
  return read_expect_and_upgrade(out);
}

ParseError check_request_line(std::string_view line) {
  RequestHead scratch;  // empty vectors: nothing is allocated
  return parse_request_line(line, scratch);
}

bool is_idempotent(Method m) {
  switch (m) {
    case Method::Get:
    case Method::Head:
    case Method::Put:
    case Method::Delete:
    case Method::Options:
    case Method::Trace:
      return true;
    default:
      return false;
  }
}

Method method_from_token(std::string_view t) {
  // Methods are case-sensitive (RFC 9110 §9.1).
  if (t == "GET") return Method::Get;
  if (t == "HEAD") return Method::Head;
  if (t == "POST") return Method::Post;
  if (t == "PUT") return Method::Put;
  if (t == "DELETE") return Method::Delete;
  if (t == "OPTIONS") return Method::Options;
  if (t == "TRACE") return Method::Trace;
  if (t == "PATCH") return Method::Patch;
  if (t == "CONNECT") return Method::Connect;
  return Method::Other;
}

}  // namespace pier::http
