#include "redis/resp.h"

#include <charconv>

namespace pier::redis {
namespace {

void append_length(std::string& out, char kind, std::size_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  out.push_back(kind);
  out.append(digits, end).append("\r\n");
}

}  // namespace

void append_command(std::string& out, std::span<const std::string_view> args) {
  append_length(out, '*', args.size());
  for (std::string_view arg : args) {
    append_length(out, '$', arg.size());
    out.append(arg).append("\r\n");
  }
}

}  // namespace pier::redis
