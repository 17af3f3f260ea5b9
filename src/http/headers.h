// Header fields as views into the buffer that holds the message head, and the hop-by-hop rules.
#pragma once

#include <string_view>
#include <vector>

namespace pier::http {

struct Header {
  std::string_view name;
  std::string_view value;  // without surrounding whitespace
};

// Reused across requests: clear() keeps capacity, so a steady connection allocates nothing.
using HeaderList = std::vector<Header>;

// The first field named `name` (case-insensitive), or nullptr; field_value: its value, or "".
const Header* find_field(const HeaderList& headers, std::string_view name);
inline std::string_view field_value(const HeaderList& headers, std::string_view name) {
  const Header* h = find_field(headers, name);
  return h != nullptr ? h->value : std::string_view();
}

// Connection-specific fields a proxy must not forward (RFC 9110 §7.6.1), plus the legacy
// Proxy-Connection and Keep-Alive. Transfer-Encoding is framing: the proxy re-frames it itself.
bool is_hop_by_hop(std::string_view name);

// True when `name` is one of the tokens listed in the Connection header(s).
bool named_in_connection(std::string_view name, const std::vector<std::string_view>& tokens);

// tchar of RFC 9110 §5.6.2.
bool is_token_char(unsigned char c);
bool is_token(std::string_view s);

}  // namespace pier::http
