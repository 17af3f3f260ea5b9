// Builds the heads the proxy forwards: the upstream request and the client response. Pure
// functions over parsed heads; the output string's capacity is reused between requests.
#pragma once

#include <string>
#include <string_view>

#include "http/message.h"

namespace pier::proxy {

struct ClientFacts {
  std::string_view address;  // the peer's IP as text
  bool trusted = false;      // the peer is in trusted_proxies: keep its X-Forwarded-* headers
  std::string_view proto = "http";
  std::string_view
      fallback_host;  // Host for requests that carry none (HTTP/1.0): the upstream's name
};

// Changes a cache makes to the upstream request: the client's own validators are dropped (the
// cache fetches a full response it can store, then answers the client's condition itself), and
// its validators may be added to revalidate a stored response.
struct RequestEdits {
  bool drop_conditionals = false;
  std::string_view extra_fields;  // complete "Name: value\r\n" lines
};

// The request to send upstream: origin-form target, HTTP/1.1, hop-by-hop headers and those named
// in Connection removed (Upgrade kept for an upgrade), Expect removed (the proxy answers
// 100-continue itself), X-Forwarded-For/-Proto/-Host and Via added, X-Request-Id left to the
// caller (RequestEdits::extra_fields).
void build_upstream_request(const http::RequestHead& request, const ClientFacts& client,
                            std::string_view via, std::string& out, const RequestEdits& edits = {});

struct ResponseFraming {
  bool close_client = false;  // add "Connection: close" and close after the body
  bool dechunk = false;       // the client speaks HTTP/1.0: strip chunked framing from the body
};

// How the response body must be framed for this client.
ResponseFraming plan_response(const http::RequestHead& request, const http::ResponseHead& response,
                              bool must_close);

// The response head for the client (the backend's X-Request-Id is left to the caller, which
// sends the request's own).
void build_client_response(const http::ResponseHead& response, const http::RequestHead& request,
                           const ResponseFraming& framing, std::string_view via, std::string& out);

}  // namespace pier::proxy
