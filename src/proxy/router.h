// Host + path prefix -> route. Routes are tried in the order the config lists them and the first
// match wins (as in Envoy and HAProxy), so a catch-all belongs last.
#pragma once

#include <string_view>
#include <vector>

#include "proxy/options.h"

namespace pier::proxy {

class Router {
 public:
  explicit Router(std::vector<RouteOptions> routes) : routes_(std::move(routes)) {}
  // `host` as the client sent it (any case, maybe with a port); `target` the origin-form path.
  const RouteOptions* match(std::string_view host, std::string_view target) const;

 private:
  std::vector<RouteOptions> routes_;
};

// "Example.COM:8080" -> "Example.COM"; "[::1]:80" -> "[::1]".
std::string_view strip_port(std::string_view host);

}  // namespace pier::proxy
