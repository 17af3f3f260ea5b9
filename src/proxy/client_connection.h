// What of a client connection outlives a session: its stream and what is known of the peer.
// A session holds it while requests flow; a parked (cold idle) connection holds only this.
#pragma once

#include <asio/ip/address.hpp>

#include "base/cidr.h"
#include "net/clock.h"
#include "net/stream.h"

namespace pier::proxy {

struct ClientConnection {
  net::Stream stream;
  Ip16 peer{};
  bool trusted = false;  // the peer is in trusted_proxies
  bool served_any =
      false;               // false until the first request: its wait is bounded by the head timeout
  TimePoint idle_since{};  // when the last response ended: the keep-alive timeout counts from it
};

// The peer of an accepted socket as Ip16 (IPv4-mapped for IPv4).
Ip16 to_ip16(const asio::ip::address& address);

}  // namespace pier::proxy
