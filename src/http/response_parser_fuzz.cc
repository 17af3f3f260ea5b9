// libFuzzer target: backend bytes through HeadScanner and parse_response_head, as the proxy reads
// a response head. The first input byte chooses the request method and the header limit; the
// rest is the response. A violated invariant aborts, which libFuzzer reports as a crash.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "http/fuzz_support.h"
#include "http/response_parser.h"

namespace {

using namespace pier::http;
using fuzz::inside;
using fuzz::scan_both_ways;

// The proxy scans responses with one buffer block as both limits.
constexpr std::size_t kBlock = 2048;

void check_response(const ResponseHead& r, const ParseError& error, std::string_view head,
                    Method method, std::size_t max_headers) {
  if (error) {
    FUZZ_CHECK(error.status == 502);
    FUZZ_CHECK(!error.reason.empty());
    return;
  }
  FUZZ_CHECK(r.status >= 100 && r.status <= 599);
  FUZZ_CHECK(r.version_minor == 0 || r.version_minor == 1);
  FUZZ_CHECK(inside(r.reason, head));
  FUZZ_CHECK(r.headers.size() <= max_headers);
  for (const Header& h : r.headers) {
    FUZZ_CHECK(inside(h.name, head) && !h.name.empty());
    FUZZ_CHECK(inside(h.value, head));
  }
  for (std::string_view t : r.connection_tokens) {
    FUZZ_CHECK(inside(t, head) && !t.empty());
  }
  bool bodyless = method == Method::Head || r.status < 200 || r.status == 204 || r.status == 304;
  if (bodyless) FUZZ_CHECK(r.framing == Framing::None);
  if (r.framing == Framing::ContentLength) FUZZ_CHECK(r.content_length > 0);
  if (r.framing == Framing::UntilClose) FUZZ_CHECK(!r.keep_alive);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  Method method = (data[0] & 1) != 0 ? Method::Head : Method::Get;
  std::size_t max_headers = 1 + (data[0] >> 1) % 32;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

  std::size_t head_size = 0;
  scan_both_ways(in, 48, 48, head_size);  // small limits, crossed by short inputs too
  ResponseHead response;
  if (scan_both_ways(in, kBlock, kBlock, head_size) == ScanStatus::Complete) {
    std::string_view head = in.substr(0, head_size);
    ParseError error = parse_response_head(head, method, max_headers, response);
    check_response(response, error, head, method, max_headers);
  }

  ParseError error = parse_response_head(in, method, max_headers, response);
  check_response(response, error, in, method, max_headers);
  return 0;
}
