#include "base/cidr.h"

#include <arpa/inet.h>

#include <cstring>
#include <string>

#include "base/units.h"

namespace pier {

std::optional<Ip16> parse_ip(std::string_view text) {
  if (text.size() > 45) return std::nullopt;
  std::string z(text);  // inet_pton needs a terminated string; config time only
  Ip16 out{};
  in_addr v4;
  if (inet_pton(AF_INET, z.c_str(), &v4) == 1) {
    out[10] = 0xff;
    out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return out;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, z.c_str(), &v6) == 1) {
    std::memcpy(out.data(), &v6, 16);
    return out;
  }
  return std::nullopt;
}

void format_ip(const Ip16& address, char* out, std::size_t size) {
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(address.data(), kMapped, 12) == 0) {
    inet_ntop(AF_INET, address.data() + 12, out, static_cast<socklen_t>(size));
  } else {
    inet_ntop(AF_INET6, address.data(), out, static_cast<socklen_t>(size));
  }
}

std::optional<Cidr> Cidr::parse(std::string_view text) {
  std::size_t slash = text.find('/');
  auto address = parse_ip(text.substr(0, slash));
  if (!address) return std::nullopt;
  bool v4 = text.find(':') == std::string_view::npos;
  int max_bits = v4 ? 32 : 128;
  int bits = max_bits;
  if (slash != std::string_view::npos) {
    auto n = parse_uint(text.substr(slash + 1));
    if (!n || *n > static_cast<std::uint64_t>(max_bits)) return std::nullopt;
    bits = static_cast<int>(*n);
  }
  Cidr cidr;
  cidr.network = *address;
  cidr.prefix_bits = v4 ? bits + 96 : bits;
  // Zero the host bits so that contains() compares whole bytes.
  for (int i = 0; i < 16; ++i) {
    int keep = cidr.prefix_bits - i * 8;
    if (keep >= 8) continue;
    cidr.network[i] &= keep <= 0 ? 0 : static_cast<std::uint8_t>(0xff << (8 - keep));
  }
  return cidr;
}

bool Cidr::contains(const Ip16& address) const {
  for (int i = 0; i < 16; ++i) {
    int keep = prefix_bits - i * 8;
    if (keep <= 0) return true;
    std::uint8_t mask = keep >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - keep));
    if ((address[i] & mask) != network[i]) return false;
  }
  return true;
}

bool CidrSet::contains(const Ip16& address) const {
  for (const Cidr& c : ranges_) {
    if (c.contains(address)) return true;
  }
  return false;
}

}  // namespace pier
