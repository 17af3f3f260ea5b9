// libFuzzer target: client bytes through HeadScanner and parse_request_head, as the proxy reads a
// request head, plus the parser alone on the raw input. Each invariant the proxy relies on is
// checked; a violation aborts, which libFuzzer reports as a crash.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "base/strings.h"
#include "http/head_scanner.h"
#include "http/request_parser.h"

namespace {

using namespace pier::http;

#define FUZZ_CHECK(cond)                                                                  \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "invariant failed: %s at %s:%d\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)

constexpr std::size_t kMaxLine = 256;
constexpr std::size_t kMaxHead = 2048;
constexpr std::size_t kMaxHeaders = 16;

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

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

// Scans `in` whole and byte by byte: both must give the same answer at the same place.
ScanStatus scan_both_ways(std::string_view in, std::size_t max_line, std::size_t max_head,
                          std::size_t& head_size) {
  HeadScanner whole(max_line, max_head);
  ScanStatus status = whole.scan(in);
  HeadScanner bytewise(max_line, max_head);
  ScanStatus bytewise_status = ScanStatus::Incomplete;
  for (std::size_t n = 1; n <= in.size() && bytewise_status == ScanStatus::Incomplete; ++n) {
    bytewise_status = bytewise.scan(in.substr(0, n));
  }
  FUZZ_CHECK(bytewise_status == status);
  head_size = 0;
  if (status == ScanStatus::Complete) {
    FUZZ_CHECK(bytewise.head_size() == whole.head_size());
    FUZZ_CHECK(whole.head_size() <= in.size() && whole.head_size() <= max_head);
    head_size = whole.head_size();
    FUZZ_CHECK(in.substr(0, head_size).ends_with("\r\n\r\n"));
  }
  return status;
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
