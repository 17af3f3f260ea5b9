#include "http/response_parser.h"

#include <gtest/gtest.h>

#include <string>

#include "http/head_scanner.h"

namespace pier::http {
namespace {

class ResponseParserTest : public testing::Test {
 protected:
  // Scans then parses, as the proxy does; `text` must be exactly one complete head.
  ParseError parse(std::string text, Method method = Method::Get, std::size_t max_headers = 100) {
    text_ = std::move(text);
    HeadScanner scanner(4096, 4096);
    ScanStatus status = scanner.scan(text_);
    if (status != ScanStatus::Complete) {
      ADD_FAILURE() << "scanner said " << static_cast<int>(status) << " for "
                    << testing::PrintToString(text_);
      return {-1, "not scanned"};
    }
    EXPECT_EQ(scanner.head_size(), text_.size());
    return parse_response_head(text_, method, max_headers, head_);
  }

  int status_of(std::string text, Method method = Method::Get) {
    return parse(std::move(text), method).status;
  }

  // A 200 response with the given field lines ("A: b\r\nC: d\r\n").
  ParseError parse_fields(const std::string& fields, Method method = Method::Get) {
    return parse("HTTP/1.1 200 OK\r\n" + fields + "\r\n", method);
  }

  std::string text_;
  ResponseHead head_;
};

TEST_F(ResponseParserTest, StatusLineParses) {
  ASSERT_FALSE(parse("HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\n"));
  EXPECT_EQ(head_.version_minor, 1);
  EXPECT_EQ(head_.status, 404);
  EXPECT_EQ(head_.reason, "Not Found");
  ASSERT_EQ(head_.headers.size(), 1u);
  EXPECT_EQ(head_.headers[0].value, "3");
}

TEST_F(ResponseParserTest, ReasonPhraseMayBeEmpty) {
  ASSERT_FALSE(parse("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"));
  EXPECT_EQ(head_.status, 200);
  EXPECT_EQ(head_.reason, "");
  ASSERT_FALSE(parse("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n"));
  EXPECT_EQ(head_.status, 200);
  EXPECT_EQ(head_.reason, "");
}

TEST_F(ResponseParserTest, ReasonPhraseKeepsTabsAndObsText) {
  ASSERT_FALSE(parse("HTTP/1.0 200 tout\tva bien \xe9\r\n\r\n"));
  EXPECT_EQ(head_.version_minor, 0);
  EXPECT_EQ(head_.reason, "tout\tva bien \xe9");
}

TEST_F(ResponseParserTest, MalformedStatusLinesAre502) {
  for (const char* line :
       {"HTTP/1.1 20 OK", "HTTP/1.1 2000 OK", "HTTP/1.1  200 OK", "HTTP/1.1 2x0 OK",
        "HTTP/1.1 -20 OK", "HTTP/1.1 099 Too Low", "HTTP/1.1 600 Too High", "HTTP/1.1 200\tOK",
        "HTTP/2 200 OK", "HTTP/2.0 200 OK", "HTTP/1.2 200 OK", "http/1.1 200 OK", "HTTP/1.1",
        "HTTP/1.1 ", "ICY 200 OK", "HTTP/1.1 200 O\x01K", "HTTP/1.1 200 a\rb"}) {
    EXPECT_EQ(status_of(std::string(line) + "\r\nContent-Length: 0\r\n\r\n"), 502) << line;
  }
}

TEST_F(ResponseParserTest, BareLfAfterTheStatusLineIs502OnItsOwn) {
  // Regression: the byte before the LF was dropped unseen, so "2000" read as 200.
  text_ = "HTTP/1.1 2000\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(parse_response_head(text_, Method::Get, 100, head_).status, 502);
}

TEST_F(ResponseParserTest, IncompleteHeadIs502) {
  text_ = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n";
  EXPECT_EQ(parse_response_head(text_, Method::Get, 100, head_).status, 502);
}

TEST_F(ResponseParserTest, ResponseToHeadHasNoBody) {
  ASSERT_FALSE(parse_fields("Content-Length: 100\r\n", Method::Head));
  EXPECT_EQ(head_.framing, Framing::None);
  EXPECT_EQ(head_.content_length, 100u);  // still known, for the client's HEAD response
  EXPECT_TRUE(head_.keep_alive);
  ASSERT_FALSE(parse_fields("Transfer-Encoding: chunked\r\n", Method::Head));
  EXPECT_EQ(head_.framing, Framing::None);
  ASSERT_FALSE(parse_fields("", Method::Head));
  EXPECT_EQ(head_.framing, Framing::None);
  EXPECT_TRUE(head_.keep_alive);
}

TEST_F(ResponseParserTest, InformationalNoContentAndNotModifiedHaveNoBody) {
  for (const char* line :
       {"HTTP/1.1 100 Continue", "HTTP/1.1 101 Switching Protocols", "HTTP/1.1 103 Early Hints",
        "HTTP/1.1 204 No Content", "HTTP/1.1 304 Not Modified"}) {
    ASSERT_FALSE(parse(std::string(line) + "\r\nContent-Length: 7\r\n\r\n")) << line;
    EXPECT_EQ(head_.framing, Framing::None) << line;
    EXPECT_TRUE(head_.keep_alive) << line;
    ASSERT_FALSE(parse(std::string(line) + "\r\n\r\n")) << line;
    EXPECT_EQ(head_.framing, Framing::None) << line;
    EXPECT_TRUE(head_.keep_alive) << line;
  }
}

TEST_F(ResponseParserTest, ChunkedAsTheFinalCodingIsChunked) {
  ASSERT_FALSE(parse_fields("Transfer-Encoding: chunked\r\n"));
  EXPECT_EQ(head_.framing, Framing::Chunked);
  EXPECT_TRUE(head_.keep_alive);
  ASSERT_FALSE(parse_fields("Transfer-Encoding: gzip, CHUNKED\r\n"));
  EXPECT_EQ(head_.framing, Framing::Chunked);
  ASSERT_FALSE(parse_fields("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"));
  EXPECT_EQ(head_.framing, Framing::Chunked);
}

TEST_F(ResponseParserTest, TransferEncodingNotEndingInChunkedIsReadUntilClose) {
  for (const char* fields :
       {"Transfer-Encoding: gzip\r\n", "Transfer-Encoding: chunked, gzip\r\n",
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n", "Transfer-Encoding:\r\n"}) {
    ASSERT_FALSE(parse_fields(fields)) << fields;
    EXPECT_EQ(head_.framing, Framing::UntilClose) << fields;
    EXPECT_FALSE(head_.keep_alive) << fields;
  }
}

TEST_F(ResponseParserTest, NoContentLengthNorTransferEncodingIsReadUntilClose) {
  ASSERT_FALSE(parse_fields("Content-Type: text/plain\r\n"));
  EXPECT_EQ(head_.framing, Framing::UntilClose);
  EXPECT_FALSE(head_.keep_alive);
}

TEST_F(ResponseParserTest, ContentLengthFramesTheBody) {
  ASSERT_FALSE(parse_fields("Content-Length: 1234\r\n"));
  EXPECT_EQ(head_.framing, Framing::ContentLength);
  EXPECT_EQ(head_.content_length, 1234u);
  EXPECT_TRUE(head_.keep_alive);
  ASSERT_FALSE(parse_fields("Content-Length: 0\r\n"));
  EXPECT_EQ(head_.framing, Framing::None);
  EXPECT_TRUE(head_.keep_alive);
  ASSERT_FALSE(parse_fields("Content-Length: 8\r\nContent-Length: 8\r\n"));
  EXPECT_EQ(head_.content_length, 8u);
}

TEST_F(ResponseParserTest, ContentLengthWithTransferEncodingIs502) {
  EXPECT_EQ(parse_fields("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n").status, 502);
  EXPECT_EQ(parse_fields("Transfer-Encoding: gzip\r\nContent-Length: 5\r\n").status, 502);
}

TEST_F(ResponseParserTest, BadContentLengthIs502) {
  EXPECT_EQ(parse_fields("Content-Length: 5\r\nContent-Length: 6\r\n").status, 502);
  EXPECT_EQ(parse_fields("Content-Length: 5, 6\r\n").status, 502);
  EXPECT_EQ(parse_fields("Content-Length: -1\r\n").status, 502);
  EXPECT_EQ(parse_fields("Content-Length: \r\n").status, 502);
  // Even where the length does not frame a body: it would reach the client as sent.
  EXPECT_EQ(parse_fields("Content-Length: x\r\n", Method::Head).status, 502);
}

TEST_F(ResponseParserTest, MalformedFieldLinesAre502) {
  EXPECT_EQ(parse_fields("Content-Length : 5\r\n").status, 502);
  EXPECT_EQ(parse_fields("X: a\r\n folded\r\n").status, 502);
  EXPECT_EQ(parse_fields("X: a\rb\r\n").status, 502);
  EXPECT_EQ(parse_fields("NoColon\r\n").status, 502);
}

TEST_F(ResponseParserTest, TooManyHeadersIs502) {
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", Method::Get, 2).status, 502);
  EXPECT_FALSE(parse("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n", Method::Get, 2));
}

TEST_F(ResponseParserTest, KeepAliveFollowsVersionAndConnection) {
  ASSERT_FALSE(parse("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n"));
  EXPECT_FALSE(head_.keep_alive);
  ASSERT_FALSE(parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n"));
  EXPECT_TRUE(head_.keep_alive);
  ASSERT_FALSE(parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n"));
  EXPECT_FALSE(head_.keep_alive);
  EXPECT_EQ(head_.connection_tokens, (std::vector<std::string_view>{"close"}));
}

TEST_F(ResponseParserTest, ConnectionNamingAFramingFieldIs502) {
  EXPECT_EQ(status_of("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: content-length\r\n\r\n"),
            502);
  EXPECT_EQ(status_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                      "Connection: Transfer-Encoding\r\n\r\n"),
            502);
}

TEST_F(ResponseParserTest, DelInTheReasonPhraseIs502) {
  EXPECT_EQ(status_of("HTTP/1.1 200 O\x7fK\r\nContent-Length: 0\r\n\r\n"), 502);
}

TEST(CheckStatusLine, ALineThatIsNotAStatusLineIsRefusedAtOnce) {
  EXPECT_EQ(check_status_line("hello world").status, 502);
  EXPECT_EQ(check_status_line("HTTP/1.1 200 OK").status, 0);
}

}  // namespace
}  // namespace pier::http
