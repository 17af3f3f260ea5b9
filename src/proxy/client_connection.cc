#include "proxy/client_connection.h"

namespace pier::proxy {

Ip16 to_ip16(const asio::ip::address& address) {
  Ip16 out{};
  if (address.is_v4()) {
    auto v4 = address.to_v4().to_bytes();
    out[10] = out[11] = 0xff;
    std::copy(v4.begin(), v4.end(), out.begin() + 12);
  } else {
    auto v6 = address.to_v6().to_bytes();
    std::copy(v6.begin(), v6.end(), out.begin());
  }
  return out;
}

}  // namespace pier::proxy
