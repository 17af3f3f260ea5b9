#include "http/headers.h"

#include <array>

#include "base/strings.h"

namespace pier::http {
namespace {

constexpr std::array<bool, 256> make_token_table() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c)
    t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c)
    t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c)
    t[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~"))
    t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr auto kTokenTable = make_token_table();

}  // namespace

const Header* find_field(const HeaderList& headers, std::string_view name) {
  for (const Header& h : headers) {
    if (iequals(h.name, name)) return &h;
  }
  return nullptr;
}

bool is_token_char(unsigned char c) {
  return kTokenTable[c];
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!kTokenTable[c]) return false;
  }
  return true;
}

bool is_hop_by_hop(std::string_view name) {
  // Dispatch on length first: this runs for every header of every message.
  switch (name.size()) {
    case 2:
      return iequals(name, "te");
    case 7:
      return iequals(name, "trailer") || iequals(name, "upgrade");
    case 10:
      return iequals(name, "connection") || iequals(name, "keep-alive");
    case 16:
      return iequals(name, "proxy-connection");
    case 17:
      return iequals(name, "transfer-encoding");
    default:
      return false;
  }
}

bool named_in_connection(std::string_view name, const std::vector<std::string_view>& tokens) {
  for (std::string_view t : tokens) {
    if (iequals(t, name)) return true;
  }
  return false;
}

}  // namespace pier::http
