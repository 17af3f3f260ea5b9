// libFuzzer target: a message body through BodyFramer under each framing, whole, split in two at
// a point the fuzzer chooses, and one byte at a time, then the sender's close; all three must
// agree on where the body ends, what it holds and whether it is complete. Bytes a take leaves
// unused before the end (an incomplete trailer line) are kept and fed again with the next part,
// as a read buffer does. The first input byte picks the framing and the split point's low bits,
// the next two a Content-Length (little-endian); the rest is what the sender sent.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/body_framer.h"
#include "http/chunked.h"
#include "http/fuzz_support.h"

namespace {

using pier::http::BodyFramer;
using pier::http::Framing;

struct Outcome {
  std::string forwarded;  // Taken::data and `out`, in order
  std::string data;       // what on_data saw
  std::size_t used = 0;   // bytes of the input that belonged to the body
  bool done = false;
  bool failed = false;
  std::uint64_t data_bytes = 0;
};

Outcome frame(Framing framing, std::uint64_t length, BodyFramer::ChunkedOutput output,
              const std::vector<std::string_view>& parts) {
  BodyFramer framer;
  framer.start(framing, length, output);
  Outcome o;
  std::string pending;
  for (std::string_view part : parts) {
    if (framer.done() || framer.failed()) break;
    pending.append(part);
    std::string out;
    BodyFramer::Taken taken =
        framer.take(pending, out, [&](std::string_view d) { o.data.append(d); });
    FUZZ_CHECK(taken.used <= pending.size());
    FUZZ_CHECK(taken.data.empty() || framer.reencodes() == false);
    FUZZ_CHECK(pier::http::fuzz::inside(taken.data, pending));
    o.forwarded.append(taken.data).append(out);
    o.used += taken.used;
    pending.erase(0, taken.used);
  }
  if (!framer.done() && !framer.failed()) framer.end_of_input();
  o.done = framer.done();
  o.failed = framer.failed();
  o.data_bytes = framer.data_bytes();
  FUZZ_CHECK(o.done != o.failed);  // after the close, a body is complete or it is not
  FUZZ_CHECK(o.data_bytes == o.data.size());
  return o;
}

// A chunked re-encoding makes one chunk per run of data as it arrived, so its bytes depend on how
// the input was cut; everything else may not.
bool same(const Outcome& a, const Outcome& b, bool reencoded) {
  return (reencoded || a.forwarded == b.forwarded) && a.data == b.data && a.used == b.used &&
         a.done == b.done && a.failed == b.failed;
}

// A chunked re-encoding must itself be a valid chunked body with the same data.
void check_reencoding(const Outcome& o) {
  if (!o.done) return;
  pier::http::ChunkedDecoder decoder;
  std::string_view rest = o.forwarded;
  std::string data;
  while (!rest.empty() && !decoder.done() && !decoder.failed()) {
    pier::http::ChunkedDecoder::Step step = decoder.next(rest);
    FUZZ_CHECK(!decoder.need_more(step));
    data.append(step.data);
    rest.remove_prefix(step.consumed);
  }
  FUZZ_CHECK(decoder.done() && rest.empty() && data == o.data);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size < 3) return 0;
  static constexpr Framing kFramings[] = {Framing::None, Framing::ContentLength, Framing::Chunked,
                                          Framing::UntilClose};
  Framing framing = kFramings[bytes[0] & 3];
  auto output = (bytes[0] & 4) != 0 ? BodyFramer::ChunkedOutput::DataOnly
                                    : BodyFramer::ChunkedOutput::Chunked;
  std::uint64_t length = bytes[1] | (std::uint64_t{bytes[2]} << 8);
  std::string_view in(reinterpret_cast<const char*>(bytes) + 3, size - 3);
  std::size_t split = (bytes[0] >> 3) * in.size() / 32;

  Outcome whole = frame(framing, length, output, {in});
  Outcome halves = frame(framing, length, output, {in.substr(0, split), in.substr(split)});
  std::vector<std::string_view> single;
  for (std::size_t i = 0; i < in.size(); ++i)
    single.push_back(in.substr(i, 1));
  Outcome bytewise = frame(framing, length, output, single);
  bool reencoded = framing == Framing::Chunked && output == BodyFramer::ChunkedOutput::Chunked;
  FUZZ_CHECK(same(whole, halves, reencoded));
  FUZZ_CHECK(same(whole, bytewise, reencoded));

  switch (framing) {
    case Framing::None:
      FUZZ_CHECK(whole.done && whole.used == 0 && whole.forwarded.empty());
      break;
    case Framing::ContentLength:
      FUZZ_CHECK(whole.used == std::min<std::uint64_t>(length, in.size()));
      FUZZ_CHECK(whole.forwarded == in.substr(0, whole.used) && whole.data == whole.forwarded);
      FUZZ_CHECK(whole.done == (in.size() >= length));
      break;
    case Framing::Chunked:
      if (output == BodyFramer::ChunkedOutput::DataOnly) {
        FUZZ_CHECK(whole.forwarded == whole.data);
      } else {
        check_reencoding(whole);
        check_reencoding(halves);
        check_reencoding(bytewise);
      }
      break;
    case Framing::UntilClose:
      FUZZ_CHECK(whole.done && whole.forwarded == in && whole.data == in);
      break;
  }
  return 0;
}
