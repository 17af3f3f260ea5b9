// Where one HTTP/1.1 message's body ends, for every framing its head can give it (RFC 9112 §6):
// none, Content-Length, chunked (with trailers), or until the connection closes. Without I/O:
// the caller feeds what it read and forwards what the framer hands back. Every reader of a body
// in Pier (the proxy both ways, the cache's background refresh, the admin server) goes through
// this one machine, so a body ends in the same place whoever reads it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/chunked_reframe.h"
#include "http/message.h"

namespace pier::http {

class BodyFramer {
 public:
  // A chunked body is re-encoded canonically (a proxy forwarding it), or only its data is
  // written (de-chunking for an HTTP/1.0 client, or reading the body whole).
  using ChunkedOutput = ChunkedReframer::Output;

  void start(Framing framing, std::uint64_t content_length,
             ChunkedOutput output = ChunkedOutput::Chunked);
  void start(const MessageCommon& head, ChunkedOutput output = ChunkedOutput::Chunked) {
    start(head.framing, head.content_length, output);
  }

  struct Taken {
    std::size_t used = 0;   // bytes at the front of the input that belong to the body
    std::string_view data;  // Content-Length and until-close: those bytes, to forward as they are
  };
  // Takes the body's bytes from the front of `in`. A chunked body's bytes are decoded and their
  // encoding appended to `out` (Taken::data stays empty); `on_data(std::string_view)` sees every
  // run of body data either way (the cache captures it). Bytes after the body's end are not
  // used: they belong to the next message. A chunked body may leave the start of a trailer
  // line unused until the rest of it arrives: call again with it and what follows.
  template <class OnData>
  Taken take(std::string_view in, std::string& out, OnData&& on_data) {
    switch (framing_) {
      case Framing::None:
        return {};
      case Framing::Chunked:
        return {chunks_.reframe(in, out, on_data), {}};
      case Framing::ContentLength: {
        std::size_t used =
            in.size() < remaining_ ? in.size() : static_cast<std::size_t>(remaining_);
        remaining_ -= used;
        return as_received(in.substr(0, used), on_data);
      }
      case Framing::UntilClose:
        return as_received(in, on_data);
    }
    return {};
  }
  Taken take(std::string_view in, std::string& out) {
    return take(in, out, [](std::string_view) {});
  }

  // The sender closed its side. True when that ends the body (close-delimited); any other body
  // is truncated and the framer fails.
  bool end_of_input();
  // `n` bytes of a Content-Length body were moved without passing through take() (splice(2)).
  void skipped(std::uint64_t n);

  bool done() const {
    switch (framing_) {
      case Framing::None:
        return true;
      case Framing::ContentLength:
        return remaining_ == 0;
      case Framing::Chunked:
        return chunks_.done();
      case Framing::UntilClose:
        return closed_;
    }
    return false;
  }
  bool failed() const { return truncated_ || (framing_ == Framing::Chunked && chunks_.failed()); }
  std::string_view error() const;
  // Whether take() writes the body into `out` (chunked) rather than handing back Taken::data.
  bool reencodes() const { return framing_ == Framing::Chunked; }
  // The bytes a Content-Length body still lacks (what splice(2) may move instead); 0 otherwise.
  std::uint64_t remaining() const { return framing_ == Framing::ContentLength ? remaining_ : 0; }
  std::uint64_t data_bytes() const {
    return framing_ == Framing::Chunked ? chunks_.data_bytes() : data_bytes_;
  }

 private:
  template <class OnData>
  Taken as_received(std::string_view data, OnData& on_data) {
    data_bytes_ += data.size();
    if (!data.empty()) on_data(data);
    return {data.size(), data};
  }

  Framing framing_ = Framing::None;
  std::uint64_t remaining_ = 0;
  std::uint64_t data_bytes_ = 0;
  bool closed_ = false;
  bool truncated_ = false;
  ChunkedReframer chunks_;
};

}  // namespace pier::http
