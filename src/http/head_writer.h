// Writes HTTP/1.1 heads, requests and responses alike: the start line, fields, and the fields
// whose spelling matters to the next hop (Content-Length as one number, Transfer-Encoding,
// Via, Connection), each spelled in one place. Appends to a string whose capacity the caller
// reuses between messages. Without I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pier::http {

// What the Connection field says, if anything.
enum class ConnectionField { None, Close, KeepAlive, Upgrade };

class HeadWriter {
 public:
  explicit HeadWriter(std::string& out) : out_(out) {}

  // "HTTP/1.1 <status> <reason>": Pier speaks HTTP/1.1 whatever the peer's version.
  HeadWriter& status_line(int status, std::string_view reason);
  // "<method> <target> HTTP/1.1"
  HeadWriter& request_line(std::string_view method, std::string_view target);

  HeadWriter& field(std::string_view name, std::string_view value) {
    out_.append(name).append(": ").append(value).append("\r\n");
    return *this;
  }
  HeadWriter& field(std::string_view name, std::uint64_t value);
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
  HeadWriter& via(int version_minor, std::string_view pseudonym);
  HeadWriter& connection(ConnectionField what);

  // The empty line that ends the head.
  void end() { out_.append("\r\n"); }

 private:
  std::string& out_;
};

}  // namespace pier::http
