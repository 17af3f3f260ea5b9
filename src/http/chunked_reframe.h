// Re-encodes a chunked body as it passes through the proxy, from what ChunkedDecoder parsed
// (never from the bytes as received): every run of data becomes one chunk of exactly its size
// ("<hex>\r\n<data>\r\n"), chunk extensions are dropped, and the trailer section keeps only the
// fields that may stand in a trailer (RFC 9110 §6.5.1). The next hop can read only the data and
// the fields Pier read, whatever valid but unusual framing the sender chose. Without I/O.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "http/chunked.h"
#include "http/headers.h"

namespace pier::http {

class ChunkedReframer {
 public:
  enum class Output {
    Chunked,   // the canonical chunked coding, trailers included
    DataOnly,  // the data alone: de-chunking for an HTTP/1.0 client (trailers are dropped)
  };
  explicit ChunkedReframer(Output output = Output::Chunked) : output_(output) {}

  // Decodes from `in` and appends the encoding to `out`; `on_data(std::string_view)` sees every
  // run of chunk data (for the cache). Returns the bytes of `in` used: all of them, unless the
  // body ended (done()), failed (failed(): `out` then holds an unfinished encoding), or an
  // incomplete trailer line waits for more bytes (the caller keeps the rest and calls again
  // with it and what follows).
  template <class OnData>
  std::size_t reframe(std::string_view in, std::string& out, OnData&& on_data) {
    std::size_t used = 0;
    while (used < in.size() && !decoder_.done() && !decoder_.failed()) {
      ChunkedDecoder::Step step = decoder_.next(in.substr(used));
      if (decoder_.need_more(step)) break;
      used += step.consumed;
      if (!step.data.empty()) {
        append_data(step.data, out);
        on_data(step.data);
      }
      append_framing(step, out);
    }
    return used;
  }
  std::size_t reframe(std::string_view in, std::string& out) {
    return reframe(in, out, [](std::string_view) {});
  }

  bool done() const { return decoder_.done(); }
  bool failed() const { return decoder_.failed(); }
  std::string_view error() const { return decoder_.error(); }
  std::uint64_t data_bytes() const { return decoder_.data_bytes(); }
  std::uint32_t trailers_dropped() const { return trailers_dropped_; }
  void reset(Output output) { *this = ChunkedReframer(output); }

 private:
  void append_data(std::string_view data, std::string& out) const;
  // The last chunk, a kept trailer field and the final CRLF, as the step reached them.
  void append_framing(const ChunkedDecoder::Step& step, std::string& out);

  ChunkedDecoder decoder_;
  Output output_;
  bool last_chunk_written_ = false;
  std::uint32_t trailers_dropped_ = 0;
};

// Fields that must not be taken from a trailer (RFC 9110 §6.5.1): those that frame or route the
// message, modify the request, authenticate, control caching or responses, or say how to process
// the content; and the hop-by-hop fields. The others are forwarded.
bool forbidden_in_trailer(std::string_view name);

}  // namespace pier::http
