#include "http/head_scanner.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace pier::http {
namespace {

constexpr std::size_t kMaxLine = 16;
constexpr std::size_t kMaxHead = 64;

struct Scan {
  ScanStatus status = ScanStatus::Incomplete;
  std::size_t head_size = 0;
  bool operator==(const Scan&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Scan& s) {
  return os << "{status " << static_cast<int>(s.status) << ", head_size " << s.head_size << "}";
}

Scan scan_all(std::string_view data, std::size_t max_line = kMaxLine,
              std::size_t max_head = kMaxHead) {
  HeadScanner scanner(max_line, max_head);
  ScanStatus status = scanner.scan(data);
  return {status, status == ScanStatus::Complete ? scanner.head_size() : 0};
}

// Feeds growing prefixes one byte longer each time, as a connection delivering one byte per read
// would, and stops at the first answer other than Incomplete.
Scan scan_bytewise(std::string_view data, std::size_t max_line = kMaxLine,
                   std::size_t max_head = kMaxHead) {
  HeadScanner scanner(max_line, max_head);
  for (std::size_t n = 1; n <= data.size(); ++n) {
    ScanStatus status = scanner.scan(data.substr(0, n));
    if (status != ScanStatus::Incomplete) {
      return {status, status == ScanStatus::Complete ? scanner.head_size() : 0};
    }
  }
  return {};
}

TEST(HeadScanner, CompleteHeadSizeIncludesTheBlankLine) {
  std::string_view head = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  EXPECT_EQ(scan_all(head), (Scan{ScanStatus::Complete, head.size()}));
}

TEST(HeadScanner, BytesAfterTheBlankLineAreNotPartOfTheHead) {
  std::string head = "POST / HTTP/1.1\r\nHost: a\r\n\r\n";
  EXPECT_EQ(scan_all(head + "body\r\n\r\n"), (Scan{ScanStatus::Complete, head.size()}));
}

TEST(HeadScanner, HeadWithoutBlankLineIsIncomplete) {
  EXPECT_EQ(scan_all("GET / HTTP/1.1\r\nHost: a\r\n").status, ScanStatus::Incomplete);
  EXPECT_EQ(scan_all("GET / HTTP/1.1\r\nHost: a\r\n\r").status, ScanStatus::Incomplete);
  EXPECT_EQ(scan_all("").status, ScanStatus::Incomplete);
}

TEST(HeadScanner, OneByteAtATimeGivesTheSameResultAsAllAtOnce) {
  const std::vector<std::string> inputs = {
      "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\n\r\ntrailing body",
      "GET / HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\nHost: a\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\n\n",
      "\n",
      "\r\n\r\n",
      "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n\r\n",
      "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\n\r\n",  // too long and a bare LF
      "GET / HTTP/1.1\r\n" + std::string(80, 'x') + "\r\n\r\n",
      "GET / HTTP/1.1\r\n" + std::string(80, 'x') + "\n\r\n",  // too large and a bare LF
      "GET / HTTP/1.1\r\nA: b\r\n" + std::string(40, 'x') + "\r\n\r\n",
  };
  for (const std::string& input : inputs) {
    EXPECT_EQ(scan_bytewise(input), scan_all(input)) << input;
  }
}

TEST(HeadScanner, RandomSplitsGiveTheSameResultAsAllAtOnce) {
  // Inputs over a small alphabet hit every line-ending and limit case; the seed is fixed.
  std::uint64_t state = 42;
  auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
  };
  const char alphabet[] = {'a', ':', ' ', '\r', '\n', '\r', '\n'};
  for (int round = 0; round < 20000; ++round) {
    std::string input;
    std::size_t length = next() % 90;
    for (std::size_t i = 0; i < length; ++i)
      input += alphabet[next() % sizeof alphabet];
    std::size_t max_line = 1 + next() % 20;
    std::size_t max_head = max_line + next() % 60;
    ASSERT_EQ(scan_bytewise(input, max_line, max_head), scan_all(input, max_line, max_head))
        << "input " << testing::PrintToString(input) << " max_line " << max_line << " max_head "
        << max_head;
  }
}

TEST(HeadScanner, BareLfIsBadLineEnding) {
  EXPECT_EQ(scan_all("GET / HTTP/1.1\nHost: a\r\n\r\n").status, ScanStatus::BadLineEnding);
  EXPECT_EQ(scan_all("GET / HTTP/1.1\r\nHost: a\nB: c\r\n\r\n").status, ScanStatus::BadLineEnding);
  EXPECT_EQ(scan_all("GET / HTTP/1.1\r\nHost: a\r\n\n").status, ScanStatus::BadLineEnding);
  EXPECT_EQ(scan_all("\n").status, ScanStatus::BadLineEnding);
}

TEST(HeadScanner, BareCrIsLeftToTheParser) {
  // Only LF ends a line; a CR inside a line is the parser's to refuse.
  std::string_view head = "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n";
  EXPECT_EQ(scan_all(head), (Scan{ScanStatus::Complete, head.size()}));
}

TEST(HeadScanner, FirstLineAtTheLimitIsAccepted) {
  std::string line(kMaxLine, 'a');
  std::string head = line + "\r\n\r\n";
  EXPECT_EQ(scan_all(head), (Scan{ScanStatus::Complete, head.size()}));
}

TEST(HeadScanner, FirstLineOverTheLimitIsLineTooLong) {
  std::string head = std::string(kMaxLine + 1, 'a') + "\r\n\r\n";
  EXPECT_EQ(scan_all(head).status, ScanStatus::LineTooLong);
}

TEST(HeadScanner, FirstLineOverTheLimitIsLineTooLongBeforeItsLfArrives) {
  HeadScanner scanner(kMaxLine, kMaxHead);
  std::string bytes(kMaxLine, 'a');
  EXPECT_EQ(scanner.scan(bytes), ScanStatus::Incomplete);
  bytes += '\r';  // still fits: the line may end right here
  EXPECT_EQ(scanner.scan(bytes), ScanStatus::Incomplete);
  bytes += 'a';
  EXPECT_EQ(scanner.scan(bytes), ScanStatus::LineTooLong);
}

TEST(HeadScanner, LongFirstLineWithBareLfIsLineTooLongHoweverItArrives) {
  // Regression: all at once this used to be BadLineEnding, byte by byte LineTooLong.
  std::string head = std::string(kMaxLine + 5, 'a') + "\n\r\n";
  EXPECT_EQ(scan_all(head).status, ScanStatus::LineTooLong);
  EXPECT_EQ(scan_bytewise(head).status, ScanStatus::LineTooLong);
}

TEST(HeadScanner, FieldLinesAreNotHeldToTheFirstLineLimit) {
  std::string head = "GET / HTTP/1.1\r\nA: " + std::string(30, 'b') + "\r\n\r\n";
  ASSERT_LT(head.size(), kMaxHead);
  EXPECT_EQ(scan_all(head), (Scan{ScanStatus::Complete, head.size()}));
}

TEST(HeadScanner, HeadOfExactlyMaxIsComplete) {
  std::string head = "GET / HTTP/1.1\r\nA: ";
  head += std::string(kMaxHead - head.size() - 4, 'b') + "\r\n\r\n";
  ASSERT_EQ(head.size(), kMaxHead);
  EXPECT_EQ(scan_all(head), (Scan{ScanStatus::Complete, kMaxHead}));
  EXPECT_EQ(scan_bytewise(head), (Scan{ScanStatus::Complete, kMaxHead}));
}

TEST(HeadScanner, HeadOverMaxIsHeadTooLarge) {
  std::string head = "GET / HTTP/1.1\r\nA: ";
  head += std::string(kMaxHead - head.size() - 3, 'b') + "\r\n\r\n";
  ASSERT_EQ(head.size(), kMaxHead + 1);
  EXPECT_EQ(scan_all(head).status, ScanStatus::HeadTooLarge);
  EXPECT_EQ(scan_bytewise(head).status, ScanStatus::HeadTooLarge);
}

TEST(HeadScanner, UnfinishedHeadReachingMaxIsHeadTooLarge) {
  HeadScanner scanner(kMaxLine, kMaxHead);
  std::string bytes = "GET / HTTP/1.1\r\n";
  bytes += std::string(kMaxHead - bytes.size() - 1, 'b');
  EXPECT_EQ(scanner.scan(bytes), ScanStatus::Incomplete);
  bytes += 'b';  // max bytes and no blank line: the head cannot fit any more
  EXPECT_EQ(scanner.scan(bytes), ScanStatus::HeadTooLarge);
}

TEST(HeadScanner, ResetStartsANewHead) {
  HeadScanner scanner(kMaxLine, kMaxHead);
  std::string_view first = "GET /1 HTTP/1.1\r\n\r\n";
  ASSERT_EQ(scanner.scan(first), ScanStatus::Complete);
  scanner.reset();
  std::string_view second = "GET /22 HTTP/1.1\r\nA: b\r\n\r\n";
  EXPECT_EQ(scanner.scan(second.substr(0, 10)), ScanStatus::Incomplete);
  EXPECT_EQ(scanner.scan(second), ScanStatus::Complete);
  EXPECT_EQ(scanner.head_size(), second.size());
}

}  // namespace
}  // namespace pier::http
