#include "proxy/forward_head.h"

#include "base/strings.h"
#include "http/head_writer.h"
#include "http/headers.h"

namespace pier::proxy {
namespace {

using http::Header;

bool forwarded_as_is(const Header& h, const std::vector<std::string_view>& connection_tokens) {
  return !http::is_hop_by_hop(h.name) && !http::named_in_connection(h.name, connection_tokens);
}

// X-Forwarded-For: the client's chain when it comes from a trusted proxy, then the peer.
void append_forwarded_for(const http::RequestHead& r, const ClientFacts& client, std::string& out) {
  http::HeadWriter head(out);
  std::string& value = head.open_field("X-Forwarded-For");
  if (client.trusted) {
    for (const Header& h : r.headers) {
      if (iequals(h.name, "x-forwarded-for") && !h.value.empty()) {
        value.append(h.value).append(", ");
      }
    }
  }
  value.append(client.address);
  head.close_field();
}

const Header* find(const http::HeaderList& headers, std::string_view name) {
  for (const Header& h : headers) {
    if (iequals(h.name, name)) return &h;
  }
  return nullptr;
}

// What the client is told of the connection after this response.
http::ConnectionField client_connection_field(const http::ResponseHead& r,
                                              const http::RequestHead& request,
                                              const ResponseFraming& framing) {
  if (r.status == 101) return http::ConnectionField::Upgrade;
  if (framing.close_client) return http::ConnectionField::Close;
  if (request.version_minor == 0) return http::ConnectionField::KeepAlive;
  return http::ConnectionField::None;
}

}  // namespace

void build_upstream_request(const http::RequestHead& r, const ClientFacts& client,
                            std::string_view via, std::string& out, const RequestEdits& edits) {
  out.clear();
  http::HeadWriter head(out);
  head.request_line(r.method_token, r.target);
  bool absolute_form = !r.scheme.empty();
  bool has_host = !r.host.empty();
  if (absolute_form || find(r.headers, "host") == nullptr) {
    head.field("Host", has_host ? r.host : client.fallback_host);
  }
  bool length_sent = false;
  for (const Header& h : r.headers) {
    if (!forwarded_as_is(h, r.connection_tokens)) continue;
    if (absolute_form && iequals(h.name, "host")) continue;
    if (iequals(h.name, "content-length")) {
      if (!length_sent) head.content_length(r.content_length);
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
    head.field(h.name, h.value);
  }
  if (r.framing == http::Framing::Chunked) head.chunked();
  if (r.upgrade) {
    head.field("Upgrade", find(r.headers, "upgrade")->value);
    head.connection(http::ConnectionField::Upgrade);
  }
  append_forwarded_for(r, client, out);
  if (!client.trusted || find(r.headers, "x-forwarded-proto") == nullptr) {
    head.field("X-Forwarded-Proto", client.proto);
  }
  if (has_host && (!client.trusted || find(r.headers, "x-forwarded-host") == nullptr)) {
    head.field("X-Forwarded-Host", r.host);
  }
  head.via(r.version_minor, via).lines(edits.extra_fields).end();
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
  http::HeadWriter head(out);
  head.status_line(r.status, r.reason);
  bool length_sent = false;
  for (const Header& h : r.headers) {
    if (!forwarded_as_is(h, r.connection_tokens)) continue;
    if (iequals(h.name, "content-length")) {
      if (!length_sent) head.content_length(r.content_length);
      length_sent = true;
      continue;
    }
    if (iequals(h.name, "x-request-id")) continue;  // the session sends the request's own
    head.field(h.name, h.value);
  }
  // A body in other codings than chunked is forwarded as it is, close-delimited: the client must
  // still be told how it is encoded.
  if ((r.framing == http::Framing::Chunked && !framing.dechunk) ||
      (r.framing == http::Framing::UntilClose && find(r.headers, "transfer-encoding") != nullptr)) {
    for (const Header& h : r.headers) {  // every field, in order: together they list the codings
      if (iequals(h.name, "transfer-encoding")) head.field(h.name, h.value);
    }
  }
  head.via(r.version_minor, via);
  if (r.status == 101) {
    const Header* upgrade = find(r.headers, "upgrade");
    if (upgrade != nullptr) head.field("Upgrade", upgrade->value);
  }
  head.connection(client_connection_field(r, request, framing)).end();
}

}  // namespace pier::proxy
