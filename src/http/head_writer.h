// Writes HTTP/1.1 heads, requests and responses alike: the start line, fields, and the fields
// whose spelling matters to the next hop (Content-Length as one number, Transfer-Encoding,
// Via, Connection), each spelled in one place. Appends to a string whose capacity the caller
// reuses between messages. Without I/O.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace pier::http {

// What the Connection field says, if anything.
enum class ConnectionField { None, Close, KeepAlive, Upgrade };

class HeadWriter {
 public:
  explicit HeadWriter(std::string& out) : out_(out) {}

  // Inline, all of it: heads are written on every request, and the calls cost more than the
  // appends they make.

  // "HTTP/1.1 <status> <reason>": Pier speaks HTTP/1.1 whatever the peer's version.
  HeadWriter& status_line(int status, std::string_view reason) {
    out_.append("HTTP/1.1 ");
    number(static_cast<std::uint64_t>(status), " ");
    out_.append(reason).append("\r\n");
    return *this;
  }
  // "<method> <target> HTTP/1.1"
  HeadWriter& request_line(std::string_view method, std::string_view target) {
    out_.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
    return *this;
  }

  HeadWriter& field(std::string_view name, std::string_view value) {
    out_.append(name).append(": ").append(value).append("\r\n");
    return *this;
  }
  HeadWriter& field(std::string_view name, std::uint64_t value) {
    out_.append(name).append(": ");
    number(value, "\r\n");
    return *this;
  }
  // A field whose value the caller appends piece by piece to the string returned, then
  // close_field().
  std::string& open_field(std::string_view name) {
    out_.append(name).append(": ");
    return out_;
  }
  HeadWriter& close_field() {
    out_.append("\r\n");
    return *this;
  }
  // Complete "Name: value\r\n" lines, as the caller built them.
  HeadWriter& lines(std::string_view complete_lines) {
    out_.append(complete_lines);
    return *this;
  }

  // One field, one number, whatever the received message's field looked like: a list such as
  // ", 5" or a duplicate copied as received could frame the body differently for the peer.
  HeadWriter& content_length(std::uint64_t length) { return field("Content-Length", length); }
  HeadWriter& chunked() { return field("Transfer-Encoding", "chunked"); }
  // "Via: 1.<minor> <pseudonym>" (RFC 9110 §7.6.3), for the version the message came in with;
  // nothing when the pseudonym is empty (via turned off).
  HeadWriter& via(int version_minor, std::string_view pseudonym) {
    if (pseudonym.empty()) return *this;
    out_.append("Via: 1.").append(version_minor == 0 ? "0 " : "1 ").append(pseudonym);
    out_.append("\r\n");
    return *this;
  }
  HeadWriter& connection(ConnectionField what) {
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

  // The empty line that ends the head.
  void end() { out_.append("\r\n"); }

 private:
  // The digits and what follows them in one append (one append also keeps GCC 12's -Wrestrict
  // from a false alarm on the inlined appends).
  void number(std::uint64_t n, std::string_view then) {
    char text[32];
    auto [end, ec] = std::to_chars(text, text + 20, n);
    for (char c : then)
      *end++ = c;
    out_.append(text, end);
  }

  std::string& out_;
};

}  // namespace pier::http
