#include "proxy/forward_head.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/strings.h"
#include "http/request_parser.h"
#include "http/response_parser.h"

namespace pier::proxy {
namespace {

// The field lines of a built head, "Name: value" each, the start line and blank line left out.
std::vector<std::string> lines(std::string_view head) {
  std::vector<std::string> out;
  EXPECT_TRUE(head.ends_with("\r\n\r\n")) << head;
  std::size_t start = head.find("\r\n");
  if (start == std::string_view::npos) return out;
  start += 2;
  while (start < head.size()) {
    std::size_t end = head.find("\r\n", start);
    if (end == start) break;
    out.emplace_back(head.substr(start, end - start));
    start = end + 2;
  }
  return out;
}

std::string start_line(std::string_view head) {
  return std::string(head.substr(0, head.find("\r\n")));
}

bool has_line(const std::vector<std::string>& lines, std::string_view line) {
  for (const std::string& l : lines) {
    if (l == line) return true;
  }
  return false;
}

bool has_name(const std::vector<std::string>& lines, std::string_view name) {
  for (const std::string& l : lines) {
    if (l.size() > name.size() && l[name.size()] == ':' &&
        std::equal(name.begin(), name.end(), l.begin(),
                   [](char a, char b) { return ascii_lower(a) == ascii_lower(b); })) {
      return true;
    }
  }
  return false;
}

class ForwardHeadTest : public testing::Test {
 protected:
  // Parses a client request head and builds what would go upstream.
  std::string upstream(std::string request, ClientFacts client = {"10.0.0.9", false, "http", "app"},
                       std::string_view via = "pier") {
    request_text_ = std::move(request);
    auto error = http::parse_request_head(request_text_, {}, request_);
    EXPECT_FALSE(error) << error.reason;
    std::string out;
    build_upstream_request(request_, client, via, out);
    return out;
  }

  void parse_request(std::string request) {
    request_text_ = std::move(request);
    auto error = http::parse_request_head(request_text_, {}, request_);
    ASSERT_FALSE(error) << error.reason;
  }

  void parse_response(std::string response) {
    response_text_ = std::move(response);
    auto error = http::parse_response_head(response_text_, request_.method, 100, response_);
    ASSERT_FALSE(error) << error.reason;
  }

  // The client response for the parsed request and response, with the planned framing.
  std::string client(bool must_close = false, std::string_view via = "pier") {
    plan_ = plan_response(request_, response_, must_close);
    std::string out;
    build_client_response(response_, request_, plan_, via, out);
    return out;
  }

  std::string request_text_;
  std::string response_text_;
  http::RequestHead request_;
  http::ResponseHead response_;
  ResponseFraming plan_;
};

// ---- upstream request ----

TEST_F(ForwardHeadTest, RequestWithoutHostGetsTheUpstreamNameAndNoForwardedHost) {
  auto out = lines(upstream("GET / HTTP/1.0\r\n\r\n"));
  EXPECT_TRUE(has_line(out, "Host: app"));
  EXPECT_FALSE(has_name(out, "X-Forwarded-Host"));
}

TEST_F(ForwardHeadTest, RequestGoesUpstreamAsHttp11OriginForm) {
  std::string out = upstream("GET /a?b=c HTTP/1.0\r\nHost: example.com\r\n\r\n");
  EXPECT_EQ(start_line(out), "GET /a?b=c HTTP/1.1");
  EXPECT_TRUE(has_line(lines(out), "Host: example.com"));
}

TEST_F(ForwardHeadTest, EndToEndHeadersKeepTheirOrderAndValues) {
  std::string out = upstream(
      "POST /p HTTP/1.1\r\nHost: h\r\nAccept: a/b\r\nContent-Length: 3\r\nX-Custom:  v  w "
      "\r\n\r\n");
  std::vector<std::string> got = lines(out);
  ASSERT_GE(got.size(), 4u);
  EXPECT_EQ(got[0], "Host: h");
  EXPECT_EQ(got[1], "Accept: a/b");
  EXPECT_EQ(got[2], "Content-Length: 3");
  EXPECT_EQ(got[3], "X-Custom: v  w");
}

TEST_F(ForwardHeadTest, HopByHopHeadersAreRemoved) {
  std::vector<std::string> got = lines(
      upstream("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n"
               "Proxy-Connection: keep-alive\r\nTE: trailers\r\nTrailer: X-Sum\r\nUpgrade: h2c\r\n"
               "Accept: */*\r\n\r\n"));
  for (const char* name :
       {"Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Upgrade"}) {
    EXPECT_FALSE(has_name(got, name)) << name;
  }
  EXPECT_TRUE(has_line(got, "Accept: */*"));
}

TEST_F(ForwardHeadTest, HeadersNamedInConnectionAreRemoved) {
  std::vector<std::string> got =
      lines(upstream("GET / HTTP/1.1\r\nHost: h\r\nConnection: X-Secret, x-other\r\nX-Secret: 1\r\n"
                     "X-Other: 2\r\nX-Kept: 3\r\n\r\n"));
  EXPECT_FALSE(has_name(got, "X-Secret"));
  EXPECT_FALSE(has_name(got, "X-Other"));
  EXPECT_TRUE(has_line(got, "X-Kept: 3"));
}

TEST_F(ForwardHeadTest, ExpectIsRemoved) {
  std::vector<std::string> got = lines(
      upstream("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"));
  EXPECT_FALSE(has_name(got, "Expect"));
  EXPECT_TRUE(has_line(got, "Content-Length: 4"));
}

TEST_F(ForwardHeadTest, UpgradeIsKeptOnlyForUpgradeRequests) {
  std::vector<std::string> got =
      lines(upstream("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                     "Sec-WebSocket-Key: k\r\n\r\n"));
  EXPECT_TRUE(has_line(got, "Upgrade: websocket"));
  EXPECT_TRUE(has_line(got, "Connection: upgrade"));
  EXPECT_TRUE(has_line(got, "Sec-WebSocket-Key: k"));

  got = lines(upstream("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n"));
  EXPECT_FALSE(has_name(got, "Upgrade"));
  EXPECT_FALSE(has_name(got, "Connection"));
}

TEST_F(ForwardHeadTest, ChunkedRequestSaysChunkedOnce) {
  std::vector<std::string> got =
      lines(upstream("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: CHUNKED\r\n\r\n"));
  int te = 0;
  for (const std::string& l : got)
    te += l.starts_with("Transfer-Encoding") ? 1 : 0;
  EXPECT_EQ(te, 1);
  EXPECT_TRUE(has_line(got, "Transfer-Encoding: chunked"));
}

TEST_F(ForwardHeadTest, ContentLengthGoesUpstreamAsTheValueThatFramedTheBody) {
  // Regression: the value was copied as sent, so ", 5" (5 for Pier, 0 or an error to a lenient
  // backend) or duplicates reached the backend while Pier framed the body as 5 bytes.
  for (const char* fields :
       {"Content-Length: , 5\r\n", "Content-Length: 5,\r\n", "Content-Length: 5, 5\r\n",
        "Content-Length: 5\r\nContent-Length: 5\r\n", "Content-Length: 005\r\n"}) {
    std::vector<std::string> got =
        lines(upstream(std::string("POST / HTTP/1.1\r\nHost: h\r\n") + fields + "\r\n"));
    int cl = 0;
    for (const std::string& l : got)
      cl += l.starts_with("Content-Length") ? 1 : 0;
    EXPECT_EQ(cl, 1) << fields;
    EXPECT_TRUE(has_line(got, "Content-Length: 5")) << fields;
  }
  EXPECT_TRUE(has_line(lines(upstream("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n")),
                       "Content-Length: 0"));
  EXPECT_FALSE(has_name(lines(upstream("GET / HTTP/1.1\r\nHost: h\r\n\r\n")), "Content-Length"));
}

TEST_F(ForwardHeadTest, ForwardedForIsAppendedForATrustedPeer) {
  std::vector<std::string> got =
      lines(upstream("GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.1.1.1\r\n"
                     "X-Forwarded-For: 2.2.2.2, 3.3.3.3\r\n\r\n",
                     {"10.0.0.9", true, "http", "app"}));
  EXPECT_TRUE(has_line(got, "X-Forwarded-For: 1.1.1.1, 2.2.2.2, 3.3.3.3, 10.0.0.9"));
  int xff = 0;
  for (const std::string& l : got)
    xff += l.starts_with("X-Forwarded-For") ? 1 : 0;
  EXPECT_EQ(xff, 1);
}

TEST_F(ForwardHeadTest, ForwardedForIsReplacedForAnUntrustedPeer) {
  std::vector<std::string> got =
      lines(upstream("GET / HTTP/1.1\r\nHost: h\r\nx-forwarded-for: 1.1.1.1\r\n\r\n",
                     {"10.0.0.9", false, "http", "app"}));
  EXPECT_TRUE(has_line(got, "X-Forwarded-For: 10.0.0.9"));
  EXPECT_FALSE(has_line(got, "x-forwarded-for: 1.1.1.1"));
}

TEST_F(ForwardHeadTest, ForwardedProtoAndHostComeFromUsForAnUntrustedPeer) {
  std::vector<std::string> got =
      lines(upstream("GET / HTTP/1.1\r\nHost: public.test\r\nX-Forwarded-Proto: https\r\n"
                     "X-Forwarded-Host: evil.test\r\n\r\n",
                     {"10.0.0.9", false, "http", "app"}));
  EXPECT_TRUE(has_line(got, "X-Forwarded-Proto: http"));
  EXPECT_TRUE(has_line(got, "X-Forwarded-Host: public.test"));
  EXPECT_FALSE(has_line(got, "X-Forwarded-Proto: https"));
  EXPECT_FALSE(has_line(got, "X-Forwarded-Host: evil.test"));
}

TEST_F(ForwardHeadTest, ForwardedProtoAndHostOfATrustedPeerAreKept) {
  std::vector<std::string> got =
      lines(upstream("GET / HTTP/1.1\r\nHost: inner.test\r\nX-Forwarded-Proto: https\r\n"
                     "X-Forwarded-Host: public.test\r\n\r\n",
                     {"10.0.0.9", true, "http", "app"}));
  EXPECT_TRUE(has_line(got, "X-Forwarded-Proto: https"));
  EXPECT_TRUE(has_line(got, "X-Forwarded-Host: public.test"));
  EXPECT_FALSE(has_line(got, "X-Forwarded-Proto: http"));
  EXPECT_FALSE(has_line(got, "X-Forwarded-Host: inner.test"));
}

TEST_F(ForwardHeadTest, ForwardedProtoAndHostAreAddedWhenATrustedPeerSentNone) {
  std::vector<std::string> got = lines(
      upstream("GET / HTTP/1.1\r\nHost: inner.test\r\n\r\n", {"10.0.0.9", true, "https", "app"}));
  EXPECT_TRUE(has_line(got, "X-Forwarded-Proto: https"));
  EXPECT_TRUE(has_line(got, "X-Forwarded-Host: inner.test"));
}

TEST_F(ForwardHeadTest, ViaNamesTheClientsVersion) {
  EXPECT_TRUE(has_line(lines(upstream("GET / HTTP/1.1\r\nHost: h\r\n\r\n")), "Via: 1.1 pier"));
  EXPECT_TRUE(has_line(lines(upstream("GET / HTTP/1.0\r\nHost: h\r\n\r\n")), "Via: 1.0 pier"));
  EXPECT_FALSE(has_name(
      lines(upstream("GET / HTTP/1.1\r\nHost: h\r\n\r\n", {"10.0.0.9", false, "http", "app"}, "")),
      "Via"));
}

TEST_F(ForwardHeadTest, AbsoluteFormIsRewrittenToOriginFormWithHost) {
  std::string out = upstream(
      "GET http://target.test:8080/x?y HTTP/1.1\r\nHost: stale.test\r\nAccept: */*\r\n\r\n");
  EXPECT_EQ(start_line(out), "GET /x?y HTTP/1.1");
  std::vector<std::string> got = lines(out);
  EXPECT_TRUE(has_line(got, "Host: target.test:8080"));
  EXPECT_FALSE(has_line(got, "Host: stale.test"));
  EXPECT_TRUE(has_line(got, "X-Forwarded-Host: target.test:8080"));
  EXPECT_TRUE(has_line(got, "Accept: */*"));
}

// ---- client response ----

TEST_F(ForwardHeadTest, KeptAliveResponseNeedsNoConnectionHeader) {
  parse_request("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  parse_response("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n");
  std::string out = client();
  EXPECT_FALSE(plan_.close_client);
  EXPECT_FALSE(plan_.dechunk);
  EXPECT_EQ(start_line(out), "HTTP/1.1 200 OK");
  std::vector<std::string> got = lines(out);
  EXPECT_TRUE(has_line(got, "Content-Length: 2"));
  EXPECT_FALSE(has_name(got, "Connection"));
  EXPECT_TRUE(has_line(got, "Via: 1.1 pier"));
}

TEST_F(ForwardHeadTest, PlannedCloseSaysConnectionClose) {
  parse_request("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  parse_response("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n");
  EXPECT_TRUE(has_line(lines(client(true)), "Connection: close"));
  EXPECT_TRUE(plan_.close_client);

  parse_request("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  parse_response("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n");
  EXPECT_TRUE(has_line(lines(client()), "Connection: close"));
}

TEST_F(ForwardHeadTest, BodyUntilCloseClosesTheClient) {
  parse_request("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  parse_response("HTTP/1.1 200 OK\r\n\r\n");
  EXPECT_TRUE(has_line(lines(client()), "Connection: close"));
}

TEST_F(ForwardHeadTest, BackendConnectionHeadersAreNotForwarded) {
  parse_request("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  parse_response(
      "HTTP/1.1 200 OK\r\nConnection: X-Backend-Only\r\nX-Backend-Only: 1\r\n"
      "Keep-Alive: timeout=5\r\nContent-Length: 0\r\n\r\n");
  std::vector<std::string> got = lines(client());
  EXPECT_FALSE(has_name(got, "X-Backend-Only"));
  EXPECT_FALSE(has_name(got, "Keep-Alive"));
  EXPECT_FALSE(has_name(got, "Connection"));
}

TEST_F(ForwardHeadTest, ChunkedResponseStaysChunkedForHttp11) {
  parse_request("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  parse_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  std::vector<std::string> got = lines(client());
  EXPECT_FALSE(plan_.dechunk);
  EXPECT_FALSE(plan_.close_client);
  EXPECT_TRUE(has_line(got, "Transfer-Encoding: chunked"));
  EXPECT_FALSE(has_name(got, "Connection"));
}

TEST_F(ForwardHeadTest, GzipCodedResponseKeepsItsCodingsAndEndsWithTheConnection) {
  parse_request("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  parse_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
  std::vector<std::string> got = lines(client());
  EXPECT_TRUE(plan_.close_client);
  EXPECT_TRUE(has_line(got, "Transfer-Encoding: gzip"));
  EXPECT_TRUE(has_line(got, "Connection: close"));
}

TEST_F(ForwardHeadTest, SplitTransferEncodingFieldsAreAllForwarded) {
  parse_request("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  parse_response(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n");
  std::vector<std::string> got = lines(client());
  EXPECT_TRUE(has_line(got, "Transfer-Encoding: gzip"));
  EXPECT_TRUE(has_line(got, "Transfer-Encoding: chunked"));
}

TEST_F(ForwardHeadTest, ChunkedResponseIsDechunkedForHttp10) {
  parse_request("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  parse_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  std::vector<std::string> got = lines(client());
  EXPECT_TRUE(plan_.dechunk);
  EXPECT_TRUE(plan_.close_client);  // without a length, the end of the body is the close
  EXPECT_FALSE(has_name(got, "Transfer-Encoding"));
  EXPECT_TRUE(has_line(got, "Connection: close"));
}

TEST_F(ForwardHeadTest, Http10KeepAliveClientIsToldKeepAlive) {
  parse_request("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  parse_response("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n");
  std::vector<std::string> got = lines(client());
  EXPECT_FALSE(plan_.close_client);
  EXPECT_TRUE(has_line(got, "Connection: keep-alive"));
}

TEST_F(ForwardHeadTest, Http10ClientWithoutKeepAliveIsClosed) {
  parse_request("GET / HTTP/1.0\r\n\r\n");
  parse_response("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n");
  EXPECT_TRUE(has_line(lines(client()), "Connection: close"));
}

TEST_F(ForwardHeadTest, SwitchingProtocolsKeepsUpgrade) {
  parse_request("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n");
  parse_response(
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Accept: x\r\n\r\n");
  std::vector<std::string> got = lines(client());
  EXPECT_TRUE(has_line(got, "Upgrade: websocket"));
  EXPECT_TRUE(has_line(got, "Connection: upgrade"));
  EXPECT_TRUE(has_line(got, "Sec-WebSocket-Accept: x"));
}

TEST_F(ForwardHeadTest, EmptyReasonAndBackendVersionInVia) {
  parse_request("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  parse_response("HTTP/1.0 204\r\n\r\n");
  std::string out = client();
  EXPECT_EQ(start_line(out), "HTTP/1.1 204 ");
  EXPECT_TRUE(has_line(lines(out), "Via: 1.0 pier"));
}

TEST_F(ForwardHeadTest, ResponseContentLengthIsTheValueThatFramedTheBody) {
  parse_request("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  parse_response("HTTP/1.1 200 OK\r\nContent-Length: , 7\r\nContent-Length: 7\r\n\r\n");
  std::vector<std::string> got = lines(client());
  int cl = 0;
  for (const std::string& l : got)
    cl += l.starts_with("Content-Length") ? 1 : 0;
  EXPECT_EQ(cl, 1);
  EXPECT_TRUE(has_line(got, "Content-Length: 7"));
}

TEST_F(ForwardHeadTest, ContentLengthOfAHeadResponseIsForwarded) {
  parse_request("HEAD / HTTP/1.1\r\nHost: h\r\n\r\n");
  parse_response("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n");
  EXPECT_TRUE(has_line(lines(client()), "Content-Length: 1234"));
  EXPECT_FALSE(plan_.close_client);
}

}  // namespace
}  // namespace pier::proxy
