#include "proxy/client_ip.h"

#include "base/strings.h"

namespace pier::proxy {

std::string_view client_ip(std::string_view peer_text, bool peer_trusted,
                           const http::HeaderList& request, const CidrSet& trusted) {
  if (!peer_trusted) return peer_text;
  // All X-Forwarded-For lines form one list; walk it from the right.
  std::string_view found = peer_text;
  for (auto h = request.rbegin(); h != request.rend(); ++h) {
    if (!iequals(h->name, "x-forwarded-for")) continue;
    std::string_view list = h->value;
    while (!list.empty()) {
      std::size_t comma = list.rfind(',');
      std::string_view element =
          trim_ows(comma == std::string_view::npos ? list : list.substr(comma + 1));
      list = comma == std::string_view::npos ? std::string_view() : list.substr(0, comma);
      if (element.empty()) continue;
      found = element;
      auto ip = parse_ip(element);
      if (!ip || !trusted.contains(*ip)) return element;  // the first hop we do not trust
    }
  }
  return found;  // every hop was trusted: the left-most one
}

}  // namespace pier::proxy
