#include "http/body_framer.h"

#include <gtest/gtest.h>

namespace pier::http {
namespace {

using Output = BodyFramer::ChunkedOutput;

struct Framed {
  std::string forwarded;  // what a proxy would send on: Taken::data and `out` in order
  std::string data;       // what on_data saw
  std::size_t used = 0;
};

// Feeds `in` one byte at a time, keeping unused bytes (a trailer line waiting) for the next call,
// until the framer is done or failed or the input ends.
Framed feed_byte_by_byte(BodyFramer& framer, std::string_view in) {
  Framed f;
  std::string pending;
  for (char c : in) {
    if (framer.done() || framer.failed()) break;
    pending.push_back(c);
    std::string out;
    BodyFramer::Taken taken =
        framer.take(pending, out, [&](std::string_view d) { f.data.append(d); });
    f.forwarded.append(taken.data).append(out);
    f.used += taken.used;
    pending.erase(0, taken.used);
  }
  return f;
}

TEST(BodyFramer, NoBodyIsDoneAtOnce) {
  BodyFramer framer;
  framer.start(Framing::None, 0);
  EXPECT_TRUE(framer.done());
  std::string out;
  EXPECT_EQ(framer.take("GET / HTTP/1.1\r\n", out).used, 0u);
  EXPECT_TRUE(out.empty());
}

TEST(BodyFramer, ContentLengthEndsAtItsLengthByteByByte) {
  BodyFramer framer;
  framer.start(Framing::ContentLength, 5);
  EXPECT_FALSE(framer.done());
  EXPECT_EQ(framer.remaining(), 5u);
  Framed f = feed_byte_by_byte(framer, "helloGET /next");
  EXPECT_TRUE(framer.done());
  EXPECT_FALSE(framer.reencodes());
  EXPECT_EQ(f.used, 5u);
  EXPECT_EQ(f.forwarded, "hello");
  EXPECT_EQ(f.data, "hello");
  EXPECT_EQ(framer.data_bytes(), 5u);
}

TEST(BodyFramer, ContentLengthLeavesTheNextMessageUnused) {
  BodyFramer framer;
  framer.start(Framing::ContentLength, 3);
  std::string out;
  BodyFramer::Taken taken = framer.take("abcHTTP/1.1 200 OK", out);
  EXPECT_EQ(taken.used, 3u);
  EXPECT_EQ(taken.data, "abc");
  EXPECT_TRUE(out.empty());  // forwarded as received, never copied
  EXPECT_TRUE(framer.done());
  EXPECT_EQ(framer.take("more", out).used, 0u);
}

TEST(BodyFramer, ZeroContentLengthIsDoneAtOnce) {
  BodyFramer framer;
  framer.start(Framing::ContentLength, 0);
  EXPECT_TRUE(framer.done());
  EXPECT_TRUE(framer.end_of_input());
  EXPECT_FALSE(framer.failed());
}

TEST(BodyFramer, ContentLengthCutShortIsTruncated) {
  BodyFramer framer;
  framer.start(Framing::ContentLength, 10);
  std::string out;
  framer.take("abc", out);
  EXPECT_FALSE(framer.end_of_input());
  EXPECT_TRUE(framer.failed());
  EXPECT_EQ(framer.error(), "connection closed before the end of the body");
}

TEST(BodyFramer, SplicedBytesCountTowardsTheLength) {
  BodyFramer framer;
  framer.start(Framing::ContentLength, 100);
  std::string out;
  framer.take(std::string(10, 'x'), out);
  framer.skipped(90);
  EXPECT_TRUE(framer.done());
  EXPECT_EQ(framer.data_bytes(), 100u);
}

TEST(BodyFramer, ChunkedIsReencodedByteByByte) {
  BodyFramer framer;
  framer.start(Framing::Chunked, 0);
  EXPECT_TRUE(framer.reencodes());
  Framed f = feed_byte_by_byte(framer, "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\nNEXT");
  EXPECT_TRUE(framer.done());
  EXPECT_EQ(f.data, "abcde");
  // One chunk per run of data as it arrived (here a byte each), the extension gone.
  EXPECT_EQ(f.forwarded, "1\r\na\r\n1\r\nb\r\n1\r\nc\r\n1\r\nd\r\n1\r\ne\r\n0\r\nX-T: 1\r\n\r\n");
  EXPECT_EQ(framer.data_bytes(), 5u);
}

TEST(BodyFramer, ChunkedDataOnlyForAReaderOfTheWholeBody) {
  BodyFramer framer;
  framer.start(Framing::Chunked, 0, Output::DataOnly);
  std::string out;
  BodyFramer::Taken taken = framer.take("5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n", out);
  EXPECT_TRUE(framer.done());
  EXPECT_EQ(out, "hello");
  EXPECT_TRUE(taken.data.empty());
}

TEST(BodyFramer, ChunkedFramingErrorsFail) {
  BodyFramer framer;
  framer.start(Framing::Chunked, 0);
  std::string out;
  framer.take("5 x\r\nhello\r\n", out);
  EXPECT_TRUE(framer.failed());
  EXPECT_FALSE(framer.error().empty());
}

TEST(BodyFramer, ChunkedCutShortIsTruncated) {
  BodyFramer framer;
  framer.start(Framing::Chunked, 0);
  std::string out;
  framer.take("5\r\nhel", out);
  EXPECT_FALSE(framer.end_of_input());
  EXPECT_TRUE(framer.failed());
}

TEST(BodyFramer, UntilCloseEndsOnlyWhenTheSenderCloses) {
  BodyFramer framer;
  framer.start(Framing::UntilClose, 0);
  Framed f = feed_byte_by_byte(framer, "every byte\r\n\r\n0\r\n");
  EXPECT_FALSE(framer.done());
  EXPECT_EQ(f.forwarded, "every byte\r\n\r\n0\r\n");
  EXPECT_TRUE(framer.end_of_input());
  EXPECT_TRUE(framer.done());
  EXPECT_FALSE(framer.failed());
}

TEST(BodyFramer, StartForgetsTheLastBody) {
  BodyFramer framer;
  framer.start(Framing::Chunked, 0);
  std::string out;
  framer.take("zz\r\n", out);
  ASSERT_TRUE(framer.failed());
  framer.start(Framing::ContentLength, 2);
  EXPECT_FALSE(framer.failed());
  EXPECT_EQ(framer.take("ok", out).data, "ok");
  EXPECT_TRUE(framer.done());
  EXPECT_EQ(framer.data_bytes(), 2u);
}

}  // namespace
}  // namespace pier::http
