#include "http/chunked.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pier::http {
namespace {

struct Decoded {
  std::string data;
  std::string trailers;  // "name=value;" for each trailer field
  std::size_t consumed = 0;
  bool done = false;
  bool failed = false;
  std::string error;
  std::uint64_t data_bytes = 0;

  bool operator==(const Decoded&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Decoded& d) {
  return os << "{data " << testing::PrintToString(d.data) << ", trailers " << d.trailers
            << ", consumed " << d.consumed << ", done " << d.done << ", failed " << d.failed << " ("
            << d.error << ")"
            << ", data_bytes " << d.data_bytes << "}";
}

// Feeds the parts in order as reads would deliver them: next() on the unconsumed rest of each
// part until it is used up or the decoder stops. Checks each step's own contract on the way.
Decoded decode_parts(const std::vector<std::string_view>& parts) {
  ChunkedDecoder decoder;
  Decoded out;
  std::string carried;  // an incomplete trailer line, fed again with the next part
  for (std::string_view part : parts) {
    std::string input = carried + std::string(part);
    std::size_t used = 0;
    while (used < input.size() && !decoder.done() && !decoder.failed()) {
      std::string_view rest = std::string_view(input).substr(used);
      ChunkedDecoder::Step step = decoder.next(rest);
      EXPECT_LE(step.consumed, rest.size());
      if (!step.data.empty()) {
        EXPECT_GE(step.data.data(), rest.data());
        EXPECT_LE(step.data.data() + step.data.size(), rest.data() + step.consumed);
      }
      out.data.append(step.data);
      if (!step.trailer.name.empty()) {
        out.trailers.append(step.trailer.name).append("=").append(step.trailer.value).append(";");
      }
      used += step.consumed;
      if (decoder.need_more(step)) {
        EXPECT_TRUE(decoder.in_trailers()) << "no progress on " << testing::PrintToString(input);
        break;
      }
    }
    out.consumed += used;
    carried = input.substr(used);
    if (decoder.done() || decoder.failed()) break;
  }
  out.done = decoder.done();
  out.failed = decoder.failed();
  out.error = std::string(decoder.error());
  out.data_bytes = decoder.data_bytes();
  EXPECT_EQ(out.data_bytes, out.data.size());
  return out;
}

Decoded decode(std::string_view body) {
  return decode_parts({body});
}

void expect_fails(std::string_view body) {
  Decoded d = decode(body);
  EXPECT_TRUE(d.failed) << testing::PrintToString(std::string(body)) << " gave " << d;
  EXPECT_FALSE(d.done);
}

constexpr std::string_view kBody =
    "5\r\nhello\r\n"
    "1;name=value;flag\r\n \r\n"
    "0B ; x=\"quoted\"\r\nworld, more\r\n"
    "0\r\nX-Checksum: abc\r\nY:\r\n\r\n";

TEST(ChunkedDecoder, DecodesChunksUpToTheEnd) {
  Decoded d = decode(kBody);
  EXPECT_TRUE(d.done) << d;
  EXPECT_EQ(d.data, "hello world, more");
  EXPECT_EQ(d.consumed, kBody.size());
  EXPECT_EQ(d.data_bytes, 17u);
}

TEST(ChunkedDecoder, EverySplitPointGivesTheSameDataAndConsumed) {
  Decoded whole = decode(kBody);
  ASSERT_TRUE(whole.done);
  for (std::size_t i = 0; i <= kBody.size(); ++i) {
    EXPECT_EQ(decode_parts({kBody.substr(0, i), kBody.substr(i)}), whole) << "split at " << i;
  }
}

TEST(ChunkedDecoder, EveryPairOfSplitPointsGivesTheSameDataAndConsumed) {
  Decoded whole = decode(kBody);
  for (std::size_t i = 0; i <= kBody.size(); ++i) {
    for (std::size_t j = i; j <= kBody.size(); ++j) {
      ASSERT_EQ(decode_parts({kBody.substr(0, i), kBody.substr(i, j - i), kBody.substr(j)}), whole)
          << "split at " << i << " and " << j;
    }
  }
}

TEST(ChunkedDecoder, OneByteAtATimeGivesTheSameDataAndConsumed) {
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < kBody.size(); ++i)
    bytes.push_back(kBody.substr(i, 1));
  EXPECT_EQ(decode_parts(bytes), decode(kBody));
}

TEST(ChunkedDecoder, FailuresStopAtTheSameByteWhateverTheSplit) {
  for (std::string_view body :
       {std::string_view("5\r\nhelloX\r\n0\r\n\r\n"), std::string_view("5\r\nhello\r\n1x\r\n"),
        std::string_view("5\r\nhello\r\n0\r\nbad line\r\n\r\n")}) {
    Decoded whole = decode(body);
    ASSERT_TRUE(whole.failed);
    for (std::size_t i = 0; i <= body.size(); ++i) {
      EXPECT_EQ(decode_parts({body.substr(0, i), body.substr(i)}), whole) << "split at " << i;
    }
  }
}

TEST(ChunkedDecoder, EachCallReturnsAtMostOneDataSpan) {
  std::string_view body = "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n";
  ChunkedDecoder decoder;
  ChunkedDecoder::Step step = decoder.next(body);
  EXPECT_EQ(step.data, "abc");
  EXPECT_EQ(step.consumed, 6u);  // "3\r\n" and the data; the CRLF after it comes next time
  EXPECT_EQ(decoder.data_bytes(), 3u);
  body.remove_prefix(step.consumed);
  step = decoder.next(body);
  EXPECT_EQ(step.data, "def");
  EXPECT_EQ(step.consumed, 8u);
  body.remove_prefix(step.consumed);
  step = decoder.next(body);
  EXPECT_EQ(step.data, "");
  EXPECT_EQ(step.consumed, body.size());
  EXPECT_TRUE(decoder.done());
  EXPECT_EQ(decoder.data_bytes(), 6u);
}

TEST(ChunkedDecoder, DataSpanEndsWithTheInput) {
  ChunkedDecoder decoder;
  ChunkedDecoder::Step step = decoder.next("A\r\n0123");
  EXPECT_EQ(step.data, "0123");
  EXPECT_EQ(step.consumed, 7u);
  step = decoder.next("456789\r\n0\r\n\r\n");
  EXPECT_EQ(step.data, "456789");
  EXPECT_EQ(decoder.data_bytes(), 10u);
}

TEST(ChunkedDecoder, HexSizesInEitherCaseAndWithLeadingZeros) {
  Decoded d = decode("a\r\n0123456789\r\n0000A\r\n0123456789\r\n000\r\n\r\n");
  EXPECT_TRUE(d.done) << d;
  EXPECT_EQ(d.data_bytes, 20u);
}

TEST(ChunkedDecoder, FifteenHexDigitsAreAcceptedAsASize) {
  Decoded d = decode("fffffffffffffff\r\nabc");
  EXPECT_FALSE(d.failed) << d;
  EXPECT_EQ(d.data, "abc");
}

TEST(ChunkedDecoder, ExtensionsAreSkipped) {
  Decoded d = decode("3;a=b;c=\"d;e\"\r\nabc\r\n0;last\r\n\r\n");
  EXPECT_TRUE(d.done) << d;
  EXPECT_EQ(d.data, "abc");
}

TEST(ChunkedDecoder, WhitespaceAroundExtensionSeparatorsIsTolerated) {
  EXPECT_TRUE(decode("3 ;a=b\r\nabc\r\n0\t;x\r\n\r\n").done);
  EXPECT_TRUE(decode("3; a = b ;c\t=\t\"q\" ; d\r\nabc\r\n0\r\n\r\n").done);
}

TEST(ChunkedDecoder, ChunkLinesOutsideTheGrammarFail) {
  // Regression: these were accepted and forwarded as received; a backend may read them otherwise.
  expect_fails("5 \r\nhello\r\n0\r\n\r\n");    // whitespace with no extension after it
  expect_fails("5;\r\nhello\r\n0\r\n\r\n");    // an empty extension name
  expect_fails("5;a \r\nhello\r\n0\r\n\r\n");  // whitespace before the CRLF
  expect_fails("5;a=\r\nhello\r\n0\r\n\r\n");  // an empty value
  expect_fails("5;a=b c\r\nhello\r\n0\r\n\r\n");
  expect_fails("5;a=\"b\r\nhello\r\n0\r\n\r\n");  // an unterminated quoted string
  expect_fails("5;a=\"b\"c\r\nhello\r\n0\r\n\r\n");
  expect_fails("5;a=b=c\r\nhello\r\n0\r\n\r\n");
  expect_fails("5;;a\r\nhello\r\n0\r\n\r\n");
  expect_fails("5;a@b\r\nhello\r\n0\r\n\r\n");
  expect_fails("0;\r\n\r\n");
}

TEST(ChunkedDecoder, QuotedExtensionValuesMayHoldEscapesAndSeparators) {
  Decoded d = decode("3;a=\"x\\\"; y=z\"\r\nabc\r\n0\r\n\r\n");
  EXPECT_TRUE(d.done) << d;
  EXPECT_EQ(d.data, "abc");
}

TEST(ChunkedDecoder, WhitespaceAfterTheSizeThenAnythingButSemicolonFails) {
  // Regression: "5 zz" was taken as size 5 with an extension; a peer may read it otherwise.
  expect_fails("3 zz\r\nabc\r\n0\r\n\r\n");
  expect_fails("3 4\r\nabc\r\n0\r\n\r\n");
}

TEST(ChunkedDecoder, ControlCharactersInAnExtensionFail) {
  expect_fails("3;a\nb\r\nabc\r\n0\r\n\r\n");
  expect_fails("3;a\x01\r\nabc\r\n0\r\n\r\n");
  expect_fails("3;a\x7f\r\nabc\r\n0\r\n\r\n");
}

TEST(ChunkedDecoder, OverlongExtensionFails) {
  expect_fails("3;" + std::string(5000, 'x') + "\r\nabc\r\n0\r\n\r\n");
  EXPECT_TRUE(decode("3;" + std::string(4000, 'x') + "\r\nabc\r\n0\r\n\r\n").done);
}

TEST(ChunkedDecoder, TrailersAreReturnedAsParsedFields) {
  std::string_view body = "0\r\nX-Sum: abc\r\nEmpty:\r\nTab:\ta\tb \r\n\r\n";
  Decoded d = decode(body);
  EXPECT_TRUE(d.done) << d;
  EXPECT_EQ(d.consumed, body.size());
  EXPECT_EQ(d.data_bytes, 0u);
  EXPECT_EQ(d.trailers, "X-Sum=abc;Empty=;Tab=a\tb;");
}

TEST(ChunkedDecoder, AnIncompleteTrailerLineIsNotConsumed) {
  ChunkedDecoder decoder;
  ChunkedDecoder::Step step = decoder.next("0\r\nX-Sum: ab");
  EXPECT_EQ(step.consumed, 3u);
  step = decoder.next("X-Sum: ab");
  EXPECT_TRUE(decoder.need_more(step));
  EXPECT_EQ(step.consumed, 0u);
  step = decoder.next("X-Sum: abc\r\n\r\n");
  EXPECT_EQ(step.consumed, 12u);
  EXPECT_EQ(step.trailer.name, "X-Sum");
  EXPECT_EQ(step.trailer.value, "abc");
  step = decoder.next("\r\n");
  EXPECT_TRUE(decoder.done());
}

TEST(ChunkedDecoder, TrailerSplitsGiveTheSameFields) {
  std::string_view body = "2\r\nab\r\n0\r\nA: 1\r\nBb: two\r\n\r\n";
  Decoded whole = decode(body);
  ASSERT_TRUE(whole.done);
  for (std::size_t i = 0; i <= body.size(); ++i) {
    for (std::size_t j = i; j <= body.size(); ++j) {
      ASSERT_EQ(decode_parts({body.substr(0, i), body.substr(i, j - i), body.substr(j)}), whole)
          << "split at " << i << " and " << j;
    }
  }
}

TEST(ChunkedDecoder, MalformedTrailersFail) {
  expect_fails("0\r\nNoColon\r\n\r\n");
  expect_fails("0\r\n: empty name\r\n\r\n");
  expect_fails("0\r\nBad Name: x\r\n\r\n");
  expect_fails("0\r\nX: a\r\n folded\r\n\r\n");
  expect_fails("0\r\nX: a\nY: b\r\n\r\n");
  expect_fails("0\r\nX: a\rY\r\n\r\n");
  expect_fails("0\r\nX: a\x01\r\n\r\n");
  expect_fails("0\r\nX: " + std::string(20000, 'v') + "\r\n\r\n");
}

TEST(ChunkedDecoder, InvalidSizesFail) {
  for (std::string_view body :
       {"zz\r\n", "-1\r\n", "0x10\r\n", "+5\r\n", "\r\n", ";ext\r\n", " 5\r\n",
        "1000000000000000\r\n" /* 16 digits */, "00000000000000005\r\n" /* 17 */}) {
    expect_fails(body);
  }
}

TEST(ChunkedDecoder, MissingCrlfAfterDataFails) {
  Decoded d = decode("5\r\nhelloX\r\n0\r\n\r\n");
  EXPECT_TRUE(d.failed);
  EXPECT_EQ(d.data, "hello");
  EXPECT_EQ(d.consumed, 8u);  // up to the offending byte, not past it
  expect_fails("5\r\nhello\n0\r\n\r\n");
  expect_fails("5\r\nhello\r0\r\n\r\n");
}

TEST(ChunkedDecoder, BareCrOrBareLfInFramingFails) {
  expect_fails("5\rhello\r\n0\r\n\r\n");
  expect_fails("5\nhello\r\n0\r\n\r\n");
  expect_fails("5;x\nhello\r\n0\r\n\r\n");
  expect_fails("0\r\n\rX");
  expect_fails("0\r\n\n");
  expect_fails("0\n\r\n");
}

TEST(ChunkedDecoder, BytesAfterTheEndAreNotConsumed) {
  std::string_view body = "2\r\nab\r\n0\r\n\r\n";
  std::string input = std::string(body) + "GET /next HTTP/1.1\r\n\r\n";
  Decoded d = decode(input);
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.consumed, body.size());

  ChunkedDecoder decoder;
  ChunkedDecoder::Step step;
  std::size_t used = 0;
  while (!decoder.done())
    used += decoder.next(std::string_view(input).substr(used)).consumed;
  EXPECT_EQ(used, body.size());
  step = decoder.next(std::string_view(input).substr(used));
  EXPECT_EQ(step.consumed, 0u);
  EXPECT_TRUE(step.data.empty());
}

TEST(ChunkedDecoder, NothingIsConsumedAfterAFailure) {
  ChunkedDecoder decoder;
  EXPECT_EQ(decoder.next("zz").consumed, 0u);
  EXPECT_TRUE(decoder.failed());
  EXPECT_FALSE(decoder.error().empty());
  EXPECT_EQ(decoder.next("5\r\nhello\r\n").consumed, 0u);
}

TEST(ChunkedDecoder, DataBytesCountsOnlyChunkData) {
  Decoded d = decode("1;ext=1\r\na\r\n10\r\n0123456789abcdef\r\n0\r\nT: v\r\n\r\n");
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.data_bytes, 17u);
}

TEST(ChunkedDecoder, ResetStartsANewBody) {
  ChunkedDecoder decoder;
  decoder.next("zz");
  ASSERT_TRUE(decoder.failed());
  decoder.reset();
  EXPECT_FALSE(decoder.failed());
  EXPECT_EQ(decoder.data_bytes(), 0u);
  EXPECT_EQ(decoder.next("0\r\n\r\n").consumed, 5u);
  EXPECT_TRUE(decoder.done());
}

}  // namespace
}  // namespace pier::http
