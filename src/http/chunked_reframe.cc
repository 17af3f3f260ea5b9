#include "http/chunked_reframe.h"

#include <array>
#include <charconv>

#include "base/strings.h"

namespace pier::http {

void ChunkedReframer::append_data(std::string_view data, std::string& out) const {
  if (output_ == Output::Chunked) {
    std::array<char, 16> hex;
    auto [end, ec] = std::to_chars(hex.data(), hex.data() + hex.size(), data.size(), 16);
    out.append(hex.data(), end).append("\r\n");
  }
  out.append(data);
  if (output_ == Output::Chunked) out.append("\r\n");
}

void ChunkedReframer::append_framing(const ChunkedDecoder::Step& step, std::string& out) {
  if (!step.trailer.name.empty() && forbidden_in_trailer(step.trailer.name)) ++trailers_dropped_;
  if (output_ == Output::DataOnly) return;
  if (!last_chunk_written_ && (decoder_.in_trailers() || decoder_.done())) {
    last_chunk_written_ = true;
    out.append("0\r\n");
  }
  if (!step.trailer.name.empty() && !forbidden_in_trailer(step.trailer.name)) {
    out.append(step.trailer.name).append(": ").append(step.trailer.value).append("\r\n");
  }
  if (decoder_.done()) out.append("\r\n");
}

bool forbidden_in_trailer(std::string_view name) {
  static constexpr std::string_view kForbidden[] = {
      // framing and routing
      "content-length", "transfer-encoding", "host", "trailer", "te", "connection", "keep-alive",
      "proxy-connection", "upgrade",
      // request modifiers: controls and conditionals
      "cache-control", "expect", "max-forwards", "pragma", "range", "if-match", "if-none-match",
      "if-modified-since", "if-unmodified-since", "if-range",
      // authentication and state
      "authorization", "proxy-authorization", "www-authenticate", "proxy-authenticate", "cookie",
      "set-cookie",
      // response control data
      "age", "expires", "date", "location", "retry-after", "vary",
      // how to process the content
      "content-type", "content-encoding", "content-range"};
  for (std::string_view f : kForbidden) {
    if (iequals(name, f)) return true;
  }
  return false;
}

}  // namespace pier::http
