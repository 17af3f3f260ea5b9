// Parsed message heads. All string_views point into the buffer that holds the head; they stay
// valid until that buffer is compacted or released.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "http/headers.h"

namespace pier::http {

enum class Method { Get, Head, Post, Put, Delete, Options, Trace, Patch, Connect, Other };

// RFC 9110 §9.2.2: a retry of these cannot cause a different effect than one request.
bool is_idempotent(Method m);
Method method_from_token(std::string_view token);

enum class Framing {
  None,           // no body
  ContentLength,  // exactly content_length bytes
  Chunked,        // chunked transfer coding, ends with the last chunk and trailers
  UntilClose,     // responses only: the body ends when the upstream closes
};

struct MessageCommon {
  int version_minor = 1;  // HTTP/1.<minor>
  HeaderList headers;
  std::vector<std::string_view> connection_tokens;  // "Connection: a, b" -> {a, b}
  Framing framing = Framing::None;
  std::uint64_t content_length = 0;
  bool keep_alive = true;  // the sender wants the connection kept after this message

  void clear_common() {
    headers.clear();
    connection_tokens.clear();
    framing = Framing::None;
    content_length = 0;
    keep_alive = true;
  }
};

struct RequestHead : MessageCommon {
  std::string_view method_token;
  Method method = Method::Other;
  std::string_view target;  // origin-form path and query ("/a?b"), or "*"
  std::string_view host;    // from Host, or from an absolute-form target
  std::string_view scheme;  // only for absolute-form targets
  bool expect_continue = false;
  bool upgrade = false;  // Connection: upgrade plus an Upgrade header

  void clear() {
    clear_common();
    method_token = target = host = scheme = {};
    method = Method::Other;
    expect_continue = upgrade = false;
  }
};

struct ResponseHead : MessageCommon {
  int status = 0;
  std::string_view reason;

  void clear() {
    clear_common();
    status = 0;
    reason = {};
  }
};

// Outcome of parsing a complete head: status 0 means success; otherwise the HTTP status a proxy
// should answer with (400, 413, 431, 501, 505 for requests; 502 for responses) and why.
struct ParseError {
  int status = 0;
  std::string_view reason;
  explicit operator bool() const { return status != 0; }
};

}  // namespace pier::http
