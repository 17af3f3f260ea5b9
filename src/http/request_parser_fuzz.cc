// libFuzzer target: client bytes through HeadScanner and parse_request_head, as the proxy reads a
// request head, plus the parser alone on the raw input. Each invariant the proxy relies on is
// checked; a violation aborts, which libFuzzer reports as a crash.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "base/strings.h"
#include "http/fuzz_support.h"
#include "http/request_parser.h"

namespace {

using namespace pier::http;
using fuzz::inside;
using fuzz::scan_both_ways;

constexpr std::size_t kMaxLine = 256;
constexpr std::size_t kMaxHead = 2048;
constexpr std::size_t kMaxHeaders = 16;

bool has_header(const RequestHead& r, std::string_view name) {
  for (const Header& h : r.headers) {
    if (pier::iequals(h.name, name)) return true;
  }
  return false;
}

void check_request(const RequestHead& r, const ParseError& error, std::string_view head) {
  if (error) {
    FUZZ_CHECK(error.status == 400 || error.status == 417 || error.status == 431 ||
               error.status == 505);
    FUZZ_CHECK(!error.reason.empty());
    return;
  }
  FUZZ_CHECK(inside(r.method_token, head) && !r.method_token.empty());
  FUZZ_CHECK(inside(r.host, head));
  FUZZ_CHECK(inside(r.scheme, head));
  // An absolute-form target without a path becomes the literal "/", outside the input.
  FUZZ_CHECK(inside(r.target, head) || (r.target == "/" && !r.scheme.empty()));
  FUZZ_CHECK(!r.target.empty() && (r.target.front() == '/' || r.target == "*"));
  FUZZ_CHECK(r.version_minor == 0 || r.version_minor == 1);
  FUZZ_CHECK(r.headers.size() <= kMaxHeaders);
  for (const Header& h : r.headers) {
    FUZZ_CHECK(inside(h.name, head) && !h.name.empty());
    FUZZ_CHECK(inside(h.value, head));
    for (char c : h.value) {
      FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0');
    }
  }
  for (std::string_view t : r.connection_tokens) {
    FUZZ_CHECK(inside(t, head) && !t.empty());
  }
  switch (r.framing) {
    case Framing::None:
      break;
    case Framing::ContentLength:
      FUZZ_CHECK(r.content_length > 0);
      FUZZ_CHECK(!has_header(r, "transfer-encoding"));
      break;
    case Framing::Chunked:
      FUZZ_CHECK(r.version_minor == 1);
      FUZZ_CHECK(!has_header(r, "content-length"));
      break;
    case Framing::UntilClose:
      FUZZ_CHECK(false);  // a request body never ends with the connection
  }
  // Whatever the framing says, the two framing headers never arrive together.
  FUZZ_CHECK(!(has_header(r, "transfer-encoding") && has_header(r, "content-length")));
  if (r.version_minor == 1) FUZZ_CHECK(has_header(r, "host"));
  if (r.expect_continue) FUZZ_CHECK(r.version_minor == 1);
  if (r.upgrade) FUZZ_CHECK(has_header(r, "upgrade"));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);

  std::size_t head_size = 0;
  // Small limits too, so that inputs of a few dozen bytes already cross them.
  scan_both_ways(in, 24, 96, head_size);
  RequestHead request;
  if (scan_both_ways(in, kMaxLine, kMaxHead, head_size) == ScanStatus::Complete) {
    std::string_view head = in.substr(0, head_size);
    ParseError error = parse_request_head(head, RequestLimits{kMaxHeaders}, request);
    check_request(request, error, head);
  }

  // The parser on its own, without the scanner's guarantees, reusing the same RequestHead.
  ParseError error = parse_request_head(in, RequestLimits{kMaxHeaders}, request);
  check_request(request, error, in);
  return 0;
}
