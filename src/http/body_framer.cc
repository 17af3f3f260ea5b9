#include "http/body_framer.h"

namespace pier::http {

void BodyFramer::start(Framing framing, std::uint64_t content_length, ChunkedOutput output) {
  framing_ = framing;
  remaining_ = framing == Framing::ContentLength ? content_length : 0;
  data_bytes_ = 0;
  closed_ = truncated_ = false;
  if (framing == Framing::Chunked) chunks_.reset(output);
}

bool BodyFramer::end_of_input() {
  if (done()) return true;
  closed_ = true;
  truncated_ = framing_ != Framing::UntilClose;
  return !truncated_;
}

void BodyFramer::skipped(std::uint64_t n) {
  n = n < remaining_ ? n : remaining_;
  remaining_ -= n;
  data_bytes_ += n;
}

std::string_view BodyFramer::error() const {
  if (framing_ == Framing::Chunked && chunks_.failed()) return chunks_.error();
  return truncated_ ? "connection closed before the end of the body" : std::string_view();
}

}  // namespace pier::http
