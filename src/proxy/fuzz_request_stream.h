// The session fuzzer's oracle (session_fuzz.cc): a byte stream cut into whole HTTP/1.1 requests
// by Pier's own strict codec, without I/O. It reads the client's bytes (what they frame) and the
// backend's (what Pier forwarded), and the fuzzer compares the two.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/chunked.h"
#include "http/head_scanner.h"
#include "http/request_parser.h"

namespace pier::proxy::fuzz {

struct FramedRequest {
  std::string method;
  std::string target;
  std::string host;  // empty: none (HTTP/1.0 without Host)
  std::string body;  // decoded: the chunked coding removed
  std::vector<std::pair<std::string, std::string>> trailers;
  bool keep_alive = true;
};

enum class Frame { Complete, Incomplete, Invalid };

class RequestStream {
 public:
  RequestStream(std::size_t max_line, std::size_t max_head, std::size_t max_headers)
      : max_line_(max_line), max_head_(max_head), limits_{max_headers} {}

  void append(std::string_view bytes) { buffer_.append(bytes); }

  // The next whole request, consumed from the stream; Incomplete leaves the bytes in place.
  Frame next(FramedRequest& out) {
    // Empty lines before a request line are ignored, as the session does (RFC 9112 §2.2).
    while (std::string_view(buffer_).substr(start_).starts_with("\r\n"))
      start_ += 2;
    std::string_view in = std::string_view(buffer_).substr(start_);
    if (in.empty()) return Frame::Incomplete;
    http::HeadScanner scanner(max_line_, max_head_);
    http::ScanStatus scan = scanner.scan(in);
    if (scan == http::ScanStatus::Incomplete) return Frame::Incomplete;
    if (scan != http::ScanStatus::Complete) return fail("head: scanner");
    http::RequestHead head;
    if (auto error = http::parse_request_head(in.substr(0, scanner.head_size()), limits_, head)) {
      error_ = error.reason;
      return Frame::Invalid;
    }
    FramedRequest request;
    request.method = head.method_token;
    request.target = head.target;
    request.host = head.host;
    request.keep_alive = head.keep_alive;
    std::size_t end = scanner.head_size();
    Frame body = read_body(head, in, end, request);
    if (body != Frame::Complete) return body;
    start_ += end;
    out = std::move(request);
    return Frame::Complete;
  }

  // Bytes received that do not yet make a whole request.
  std::size_t pending() const { return buffer_.size() - start_; }
  std::string_view error() const { return error_; }

 private:
  Frame fail(std::string_view why) {
    error_ = why;
    return Frame::Invalid;
  }

  // The body after the head; `end` moves to the byte after it.
  Frame read_body(const http::RequestHead& head, std::string_view in, std::size_t& end,
                  FramedRequest& request) {
    if (head.framing == http::Framing::ContentLength) {
      if (in.size() - end < head.content_length) return Frame::Incomplete;
      request.body = in.substr(end, head.content_length);
      end += head.content_length;
      return Frame::Complete;
    }
    if (head.framing != http::Framing::Chunked) return Frame::Complete;
    http::ChunkedDecoder decoder;
    for (;;) {
      http::ChunkedDecoder::Step step = decoder.next(in.substr(end));
      if (decoder.failed()) return fail(decoder.error());
      request.body.append(step.data);
      if (!step.trailer.name.empty()) {
        request.trailers.emplace_back(step.trailer.name, step.trailer.value);
      }
      end += step.consumed;
      if (decoder.done()) return Frame::Complete;
      if (decoder.need_more(step) || end == in.size()) return Frame::Incomplete;
    }
  }

  std::size_t max_line_;
  std::size_t max_head_;
  http::RequestLimits limits_;
  std::string buffer_;
  std::size_t start_ = 0;  // the first byte not yet part of a returned request
  std::string_view error_;
};

}  // namespace pier::proxy::fuzz
