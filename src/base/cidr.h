// CIDR ranges ("10.0.0.0/8", "::1/128") and membership tests, for trusted_proxies.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace pier {

// An address as 16 bytes; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d) so one compare serves both.
using Ip16 = std::array<std::uint8_t, 16>;

std::optional<Ip16> parse_ip(std::string_view text);

// Writes the address as text (IPv4-mapped addresses as plain IPv4) into out[0..size), terminated.
// size must be at least 46 (INET6_ADDRSTRLEN). No allocation: it runs once per session.
void format_ip(const Ip16& address, char* out, std::size_t size);

struct Cidr {
  Ip16 network{};
  int prefix_bits = 0;  // counted on the 128-bit form

  static std::optional<Cidr> parse(std::string_view text);
  bool contains(const Ip16& address) const;
};

class CidrSet {
 public:
  void add(const Cidr& cidr) { ranges_.push_back(cidr); }
  bool contains(const Ip16& address) const;
  bool empty() const { return ranges_.empty(); }

 private:
  std::vector<Cidr> ranges_;
};

}  // namespace pier
