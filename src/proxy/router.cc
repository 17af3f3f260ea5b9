#include "proxy/router.h"

#include "base/strings.h"

namespace pier::proxy {
namespace {

bool host_matches(const RouteOptions& route, std::string_view host) {
  switch (route.host_kind) {
    case HostMatchKind::Any:
      return true;
    case HostMatchKind::Exact:
      return iequals(host, route.host);
    case HostMatchKind::Suffix:  // "*.example.com" matches "a.example.com", not "example.com"
      return host.size() > route.host.size() &&
             iequals(host.substr(host.size() - route.host.size()), route.host);
  }
  return false;
}

}  // namespace

std::string_view strip_port(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    std::size_t close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  std::size_t colon = host.rfind(':');
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}

const RouteOptions* Router::match(std::string_view host, std::string_view target) const {
  std::string_view name = strip_port(host);
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);  // "example.com." is the same
  for (const RouteOptions& route : routes_) {
    if (host_matches(route, name) && target.starts_with(route.path_prefix)) return &route;
  }
  return nullptr;
}

}  // namespace pier::proxy
