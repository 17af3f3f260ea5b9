#include "http/chunked_reframe.h"

#include <gtest/gtest.h>

#include <string>

namespace pier::http {
namespace {

std::string reframe(std::string_view body,
                    ChunkedReframer::Output output = ChunkedReframer::Output::Chunked) {
  ChunkedReframer r(output);
  std::string out;
  std::size_t used = r.reframe(body, out);
  EXPECT_TRUE(r.done()) << r.error();
  EXPECT_EQ(used, body.size());
  return out;
}

TEST(ChunkedReframer, EachChunkIsWrittenWithItsSizeInHexAndNoExtensions) {
  EXPECT_EQ(reframe("005;a=b\r\nhello\r\n0B ; x=\"y\"\r\nworld, more\r\n0;z\r\n\r\n"),
            "5\r\nhello\r\nb\r\nworld, more\r\n0\r\n\r\n");
}

TEST(ChunkedReframer, PermittedTrailersAreKeptAndForbiddenOnesDropped) {
  ChunkedReframer r;
  std::string out;
  r.reframe(
      "1\r\na\r\n0\r\nX-Checksum:  abc \r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n"
      "Host: evil\r\nSet-Cookie: a=b\r\nAuthorization: x\r\nTrailer: X\r\nCache-Control: no\r\n"
      "Content-Type: a/b\r\nContent-Encoding: gzip\r\nContent-Range: x\r\nExpect: y\r\n"
      "Max-Forwards: 1\r\nTE: trailers\r\nServer-Timing: db;dur=5\r\n\r\n",
      out);
  EXPECT_TRUE(r.done());
  EXPECT_EQ(out, "1\r\na\r\n0\r\nX-Checksum: abc\r\nServer-Timing: db;dur=5\r\n\r\n");
  EXPECT_EQ(r.trailers_dropped(), 13u);
}

TEST(ChunkedReframer, DeChunkingWritesTheDataAlone) {
  EXPECT_EQ(
      reframe("3\r\nabc\r\n2;x\r\nde\r\n0\r\nT: v\r\n\r\n", ChunkedReframer::Output::DataOnly),
      "abcde");
}

TEST(ChunkedReframer, DataSplitAcrossCallsBecomesOneChunkPerCall) {
  ChunkedReframer r;
  std::string out;
  EXPECT_EQ(r.reframe("a\r\n01234", out), 8u);
  EXPECT_EQ(r.reframe("56789\r\n0\r\n\r\n", out), 12u);
  EXPECT_TRUE(r.done());
  EXPECT_EQ(out, "5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n");
}

TEST(ChunkedReframer, AnIncompleteTrailerLineIsLeftForTheNextCall) {
  ChunkedReframer r;
  std::string out;
  std::string_view first = "0\r\nX-A: 1\r\nX-B";
  EXPECT_EQ(r.reframe(first, out), 11u);
  EXPECT_FALSE(r.done());
  EXPECT_EQ(r.reframe("X-B: 2\r\n\r\nGET /next", out), 10u);
  EXPECT_TRUE(r.done());
  EXPECT_EQ(out, "0\r\nX-A: 1\r\nX-B: 2\r\n\r\n");
}

TEST(ChunkedReframer, BytesAfterTheBodyAreLeftAlone) {
  ChunkedReframer r;
  std::string out;
  EXPECT_EQ(r.reframe("0\r\n\r\nGET / HTTP/1.1\r\n", out), 5u);
  EXPECT_EQ(out, "0\r\n\r\n");
}

TEST(ChunkedReframer, InvalidFramingFails) {
  ChunkedReframer r;
  std::string out;
  r.reframe("5 \r\nhello\r\n0\r\n\r\n", out);
  EXPECT_TRUE(r.failed());
}

TEST(ChunkedReframer, ForbiddenTrailerNamesAreMatchedWithoutCase) {
  EXPECT_TRUE(forbidden_in_trailer("CONTENT-LENGTH"));
  EXPECT_TRUE(forbidden_in_trailer("set-cookie"));
  EXPECT_FALSE(forbidden_in_trailer("X-Checksum"));
  EXPECT_FALSE(forbidden_in_trailer("Server-Timing"));
}

}  // namespace
}  // namespace pier::http
