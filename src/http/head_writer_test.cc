#include "http/head_writer.h"

#include <gtest/gtest.h>

namespace pier::http {
namespace {

TEST(HeadWriter, ResponseHeadByteForByte) {
  std::string out = "kept ";  // appends after what is there
  HeadWriter(out)
      .status_line(200, "OK")
      .field("Content-Type", "text/plain")
      .content_length(12)
      .chunked()
      .via(0, "pier")
      .connection(ConnectionField::KeepAlive)
      .end();
  EXPECT_EQ(out,
            "kept HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n"
            "Transfer-Encoding: chunked\r\nVia: 1.0 pier\r\nConnection: keep-alive\r\n\r\n");
}

TEST(HeadWriter, RequestHeadByteForByte) {
  std::string out;
  HeadWriter head(out);
  head.request_line("GET", "/a?b").field("Host", "x");
  std::string& value = head.open_field("X-Forwarded-For");
  value.append("10.0.0.1, ").append("127.0.0.1");
  head.close_field().lines("X-Request-Id: 7\r\n").via(1, "pier").end();
  EXPECT_EQ(out,
            "GET /a?b HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.0.0.1, 127.0.0.1\r\n"
            "X-Request-Id: 7\r\nVia: 1.1 pier\r\n\r\n");
}

TEST(HeadWriter, NothingForAnEmptyViaOrNoConnectionField) {
  std::string out;
  HeadWriter(out).status_line(204, "").via(1, "").connection(ConnectionField::None).end();
  EXPECT_EQ(out, "HTTP/1.1 204 \r\n\r\n");
}

TEST(HeadWriter, ConnectionFieldsAndNumbers) {
  std::string out;
  out.reserve(128);
  HeadWriter head(out);
  head.connection(ConnectionField::Close);
  head.connection(ConnectionField::Upgrade);
  head.field("Age", std::uint64_t{0});
  head.content_length(18446744073709551615u);
  EXPECT_EQ(out,
            "Connection: close\r\nConnection: upgrade\r\nAge: 0\r\n"
            "Content-Length: 18446744073709551615\r\n");
}

}  // namespace
}  // namespace pier::http
