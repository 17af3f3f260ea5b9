#include "http/head_writer.h"

#include <charconv>

namespace pier::http {
namespace {

void append_number(std::string& out, std::uint64_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  out.append(digits, end);
}

}  // namespace

HeadWriter& HeadWriter::status_line(int status, std::string_view reason) {
  out_.append("HTTP/1.1 ");
  append_number(out_, static_cast<std::uint64_t>(status));
  out_.append(" ").append(reason).append("\r\n");
  return *this;
}

HeadWriter& HeadWriter::request_line(std::string_view method, std::string_view target) {
  out_.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  return *this;
}

HeadWriter& HeadWriter::field(std::string_view name, std::uint64_t value) {
  out_.append(name).append(": ");
  append_number(out_, value);
  out_.append("\r\n");
  return *this;
}

HeadWriter& HeadWriter::via(int version_minor, std::string_view pseudonym) {
  if (pseudonym.empty()) return *this;
  out_.append("Via: 1.").append(version_minor == 0 ? "0 " : "1 ").append(pseudonym).append("\r\n");
  return *this;
}

HeadWriter& HeadWriter::connection(ConnectionField what) {
  switch (what) {
    case ConnectionField::None:
      break;
    case ConnectionField::Close:
      out_.append("Connection: close\r\n");
      break;
    case ConnectionField::KeepAlive:
      out_.append("Connection: keep-alive\r\n");
      break;
    case ConnectionField::Upgrade:
      out_.append("Connection: upgrade\r\n");
      break;
  }
  return *this;
}

}  // namespace pier::http
