// libFuzzer target: a chunked body through ChunkedDecoder, whole, split in two at a point the
// fuzzer chooses, and one byte at a time; all three must agree. Bytes a step leaves unconsumed
// (an incomplete trailer line) are kept and fed again with the next part, as a read buffer does.
// The re-encoding of the body (ChunkedReframer) must itself decode to the same data, and
// re-encode to itself. The first two input bytes are the split point (little-endian, modulo the
// body's size + 1); the rest is the body.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "http/chunked.h"
#include "http/chunked_reframe.h"
#include "http/fuzz_support.h"

namespace {

using pier::http::ChunkedDecoder;
using pier::http::ChunkedReframer;

struct Outcome {
  std::string data;
  std::size_t consumed = 0;
  bool done = false;
  bool failed = false;
  std::uint64_t data_bytes = 0;
};

// Feeds the parts in order, each until it is used up or the decoder stops, checking every step.
Outcome decode(const std::vector<std::string_view>& parts) {
  ChunkedDecoder decoder;
  Outcome out;
  std::string carried;
  for (std::string_view part : parts) {
    std::string input = carried + std::string(part);
    std::size_t used = 0;
    while (used < input.size() && !decoder.done() && !decoder.failed()) {
      std::string_view rest = std::string_view(input).substr(used);
      ChunkedDecoder::Step step = decoder.next(rest);
      FUZZ_CHECK(step.consumed <= rest.size());
      FUZZ_CHECK(step.data.size() <= step.consumed);
      if (!step.data.empty()) {
        FUZZ_CHECK(step.data.data() >= rest.data());
        FUZZ_CHECK(step.data.data() + step.data.size() <= rest.data() + step.consumed);
        FUZZ_CHECK(step.trailer.name.empty());
      }
      out.data.append(step.data);
      used += step.consumed;
      // No progress is only allowed when the decoder has stopped, or waits for a whole line.
      if (decoder.need_more(step)) {
        FUZZ_CHECK(decoder.in_trailers());
        break;
      }
    }
    out.consumed += used;
    carried = input.substr(used);
    if (decoder.done() || decoder.failed()) break;
  }
  out.done = decoder.done();
  out.failed = decoder.failed();
  out.data_bytes = decoder.data_bytes();
  FUZZ_CHECK(!(out.done && out.failed));
  FUZZ_CHECK(out.data_bytes == out.data.size());
  if (out.failed) FUZZ_CHECK(!decoder.error().empty());
  if (out.done || out.failed) {
    // A stopped decoder takes nothing more: bytes after the body belong to the next message.
    FUZZ_CHECK(decoder.next("0\r\n\r\n").consumed == 0);
  }
  return out;
}

bool same(const Outcome& a, const Outcome& b) {
  return a.data == b.data && a.consumed == b.consumed && a.done == b.done && a.failed == b.failed &&
         a.data_bytes == b.data_bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  std::size_t split_seed = data[0] | (std::size_t{data[1]} << 8);
  std::string_view body(reinterpret_cast<const char*>(data) + 2, size - 2);
  std::size_t split = split_seed % (body.size() + 1);

  Outcome whole = decode({body});
  FUZZ_CHECK(whole.consumed <= body.size());

  // The canonical re-encoding carries exactly the data, and is a fixed point.
  ChunkedReframer reframer;
  std::string encoded;
  FUZZ_CHECK(reframer.reframe(body, encoded) == whole.consumed);
  FUZZ_CHECK(reframer.done() == whole.done && reframer.failed() == whole.failed);
  if (whole.done) {
    Outcome again = decode({encoded});
    FUZZ_CHECK(again.done && again.data == whole.data && again.consumed == encoded.size());
    ChunkedReframer second;
    std::string twice;
    second.reframe(encoded, twice);
    FUZZ_CHECK(second.done() && twice == encoded);
  }

  Outcome halves = decode({body.substr(0, split), body.substr(split)});
  FUZZ_CHECK(same(halves, whole));

  std::vector<std::string_view> bytes;
  bytes.reserve(body.size());
  for (std::size_t i = 0; i < body.size(); ++i) {
    bytes.push_back(body.substr(i, 1));
  }
  FUZZ_CHECK(same(decode(bytes), whole));
  return 0;
}
