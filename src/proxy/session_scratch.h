// The per-request working state of a session whose capacity is worth keeping: parsed heads (their
// header vectors) and the strings heads are built in. Sessions borrow one from their worker's pool,
// so a session that starts (a new or unparked connection) allocates nothing once the pool is warm.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "http/message.h"

namespace pier::proxy {

struct SessionScratch {
  http::RequestHead request;
  http::ResponseHead response;
  std::string upstream_head;  // the request head as sent upstream, kept for retries
  std::string out;            // a head on its way to the client (and re-encoded chunks after it)
  std::string body_out;       // a streamed chunked request body, re-encoded for the upstream

  // Per-request text of the later phases (cache, rate limit, log). Here rather than in the
  // session: a new session would otherwise allocate each of them again, and carry their bytes
  // per connection.
  std::string response_extras;  // complete "Name: value\r\n" lines for the response
  std::string request_fields;   // lines added to the upstream request (X-Request-Id, validators)
  std::string rate_key;
  std::string log_line;
  struct LogCopy {  // the request's fields for the access log (session_log.cc)
    std::string method, host, path, user_agent, referer, client;
  } log_copy;
  struct CacheText {  // CacheFlow's strings (session_cache.h)
    std::string key, validators, status, invalidate_key, request_host;
  } cache;
};

class ScratchPool {
 public:
  std::unique_ptr<SessionScratch> acquire() {
    if (free_.empty()) return std::make_unique<SessionScratch>();
    auto s = std::move(free_.back());
    free_.pop_back();
    return s;
  }
  void release(std::unique_ptr<SessionScratch> s) {
    if (free_.size() < kMaxCached) free_.push_back(std::move(s));
  }
  // As BufferPool::trim: keeps `keep` spares, frees the rest.
  void trim(std::size_t keep) {
    if (free_.size() > keep) free_.resize(keep);
  }

 private:
  static constexpr std::size_t kMaxCached = 1024;
  std::vector<std::unique_ptr<SessionScratch>> free_;
};

}  // namespace pier::proxy
