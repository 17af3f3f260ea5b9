// What one request did, gathered along its phases for the metrics and the access log line that
// phase `log` writes (proxy/session_log.cc).
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "upstream/backend.h"

namespace pier::proxy {

struct RequestTrace {
  std::chrono::steady_clock::time_point start{};
  int status = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::size_t route = 0;  // index; routes.size() = no route matched
  std::size_t cluster = 0;
  upstream::Backend* backend = nullptr;  // the last backend tried
  std::int64_t connect_us = -1;          // a new upstream connection's connect time
  std::int64_t header_us = -1;           // request sent -> response head received
  std::uint32_t attempts = 0;
  std::string_view rate_limit;  // "allowed" / "limited" / ""
  char request_id[64] = {};
  std::size_t request_id_size = 0;

  std::string_view id() const { return {request_id, request_id_size}; }
};

}  // namespace pier::proxy
