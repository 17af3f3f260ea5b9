#include "proxy/forward_head.h"

#include <charconv>

#include "base/strings.h"
#include "http/headers.h"

namespace pier::proxy {
namespace {

using http::Header;

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

// Content-Length as the parser read it: one field, one number. Copied as received, a list such
// as ", 5" or a duplicate field could frame the body differently for the peer than it did for us.
void append_content_length(std::string& out, std::uint64_t length) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, length);
  out.append("Content-Length: ").append(digits, end).append("\r\n");
}

bool forwarded_as_is(const Header& h, const std::vector<std::string_view>& connection_tokens) {
  return !http::is_hop_by_hop(h.name) && !http::named_in_connection(h.name, connection_tokens);
}

// X-Forwarded-For: the client's chain when it comes from a trusted proxy, then the peer.
void append_forwarded_for(const http::RequestHead& r, const ClientFacts& client, std::string& out) {
  out.append("X-Forwarded-For: ");
  if (client.trusted) {
    for (const Header& h : r.headers) {
      if (iequals(h.name, "x-forwarded-for") && !h.value.empty()) out.append(h.value).append(", ");
    }
  }
  out.append(client.address).append("\r\n");
}

const Header* find(const http::HeaderList& headers, std::string_view name) {
  for (const Header& h : headers) {
    if (iequals(h.name, name)) return &h;
  }
  return nullptr;
}

}  // namespace

void build_upstream_request(const http::RequestHead& r, const ClientFacts& client,
                            std::string_view via, std::string& out, const RequestEdits& edits) {
  out.clear();
  out.append(r.method_token).append(" ").append(r.target).append(" HTTP/1.1\r\n");
  bool absolute_form = !r.scheme.empty();
  bool has_host = !r.host.empty();
  if (absolute_form || find(r.headers, "host") == nullptr) {
    append_header(out, "Host", has_host ? r.host : client.fallback_host);
  }
  bool length_sent = false;
  for (const Header& h : r.headers) {
    if (!forwarded_as_is(h, r.connection_tokens)) continue;
    if (absolute_form && iequals(h.name, "host")) continue;
    if (iequals(h.name, "content-length")) {
      if (!length_sent) append_content_length(out, r.content_length);
      length_sent = true;
      continue;
    }
    if (iequals(h.name, "expect") || iequals(h.name, "x-forwarded-for")) continue;
    if (iequals(h.name, "x-request-id")) continue;  // the session sends the request's own
    if (edits.drop_conditionals &&
        (iequals(h.name, "if-none-match") || iequals(h.name, "if-modified-since"))) {
      continue;
    }
    if (!client.trusted &&
        (iequals(h.name, "x-forwarded-proto") || iequals(h.name, "x-forwarded-host"))) {
      continue;  // an untrusted client must not choose what the backend believes
    }
    append_header(out, h.name, h.value);
  }
  if (r.framing == http::Framing::Chunked) out.append("Transfer-Encoding: chunked\r\n");
  if (r.upgrade) {
    const Header* upgrade = find(r.headers, "upgrade");
    append_header(out, "Upgrade", upgrade->value);
    out.append("Connection: upgrade\r\n");
  }
  append_forwarded_for(r, client, out);
  if (!client.trusted || find(r.headers, "x-forwarded-proto") == nullptr) {
    append_header(out, "X-Forwarded-Proto", client.proto);
  }
  if (has_host && (!client.trusted || find(r.headers, "x-forwarded-host") == nullptr)) {
    append_header(out, "X-Forwarded-Host", r.host);
  }
  if (!via.empty()) {
    out.append("Via: 1.").append(r.version_minor == 0 ? "0 " : "1 ").append(via).append("\r\n");
  }
  out.append(edits.extra_fields);
  out.append("\r\n");
}

ResponseFraming plan_response(const http::RequestHead& request, const http::ResponseHead& response,
                              bool must_close) {
  ResponseFraming plan;
  plan.dechunk = request.version_minor == 0 && response.framing == http::Framing::Chunked;
  plan.close_client = must_close || !request.keep_alive || plan.dechunk ||
                      response.framing == http::Framing::UntilClose;
  return plan;
}

void build_client_response(const http::ResponseHead& r, const http::RequestHead& request,
                           const ResponseFraming& framing, std::string_view via, std::string& out) {
  out.clear();
  char status[4];
  std::to_chars(status, status + 3, r.status);
  status[3] = '\0';
  out.append("HTTP/1.1 ").append(status, 3).append(" ").append(r.reason).append("\r\n");
  bool switching = r.status == 101;
  bool length_sent = false;
  for (const Header& h : r.headers) {
    if (!forwarded_as_is(h, r.connection_tokens)) continue;
    if (iequals(h.name, "content-length")) {
      if (!length_sent) append_content_length(out, r.content_length);
      length_sent = true;
      continue;
    }
    if (iequals(h.name, "x-request-id")) continue;  // the session sends the request's own
    append_header(out, h.name, h.value);
  }
  // A body in other codings than chunked is forwarded as it is, close-delimited: the client must
  // still be told how it is encoded.
  if ((r.framing == http::Framing::Chunked && !framing.dechunk) ||
      (r.framing == http::Framing::UntilClose && find(r.headers, "transfer-encoding") != nullptr)) {
    for (const Header& h : r.headers) {  // every field, in order: together they list the codings
      if (iequals(h.name, "transfer-encoding")) append_header(out, h.name, h.value);
    }
  }
  if (!via.empty()) {
    out.append("Via: 1.").append(r.version_minor == 0 ? "0 " : "1 ").append(via).append("\r\n");
  }
  if (switching) {
    const Header* upgrade = find(r.headers, "upgrade");
    if (upgrade != nullptr) append_header(out, "Upgrade", upgrade->value);
    out.append("Connection: upgrade\r\n");
  } else if (framing.close_client) {
    out.append("Connection: close\r\n");
  } else if (request.version_minor == 0) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
}

}  // namespace pier::proxy
