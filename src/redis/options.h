// Where Pier's Redis is and how long it may take (config `redis:`).
#pragma once

#include <asio/ip/tcp.hpp>
#include <chrono>
#include <string>

#include "base/units.h"

namespace pier::redis {

struct RedisOptions {
  std::string url;  // as written: redis://[:password@]host:port[/db]
  asio::ip::tcp::endpoint endpoint;
  std::string password;
  int db = 0;
  Duration timeout = std::chrono::milliseconds(50);  // per command; then it counts as a miss
  Duration connect_timeout = std::chrono::seconds(1);
};

}  // namespace pier::redis
