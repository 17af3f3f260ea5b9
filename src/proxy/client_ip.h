// Who the client is, for rate limiting: the peer's address, or, when the peer is one of our
// trusted_proxies, the right-most address of X-Forwarded-For that is not a trusted proxy
// (addresses further left could have been written by the client itself). An untrusted peer's
// X-Forwarded-For changes nothing. No I/O.
#pragma once

#include <string_view>

#include "base/cidr.h"
#include "http/headers.h"

namespace pier::proxy {

// `peer_text` is the peer's address as text; the result points into it or into `request`.
std::string_view client_ip(std::string_view peer_text, bool peer_trusted,
                           const http::HeaderList& request, const CidrSet& trusted);

}  // namespace pier::proxy
