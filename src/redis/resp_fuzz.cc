// libFuzzer target: the RESP reply reader on bytes a Redis server (or anything that answers on
// its port) may send. Fed whole and split in two at a point the fuzzer chooses, it must give the
// same replies and the same verdict. Then the input, cut into arguments, is encoded as a command
// and read back as a reply: an array of exactly those strings.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/fuzz_support.h"
#include "redis/resp.h"

namespace {

using pier::redis::Reply;
using pier::redis::ReplyReader;

struct Outcome {
  std::vector<Reply> replies;
  bool error = false;
};

bool same(const Reply& a, const Reply& b) {
  if (a.type != b.type || a.str != b.str || a.integer != b.integer ||
      a.elements.size() != b.elements.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.elements.size(); ++i) {
    if (!same(a.elements[i], b.elements[i])) return false;
  }
  return true;
}

Outcome read_all(const std::vector<std::string_view>& parts) {
  ReplyReader reader;
  Outcome out;
  for (std::string_view part : parts) {
    if (!reader.feed(part)) {
      out.error = true;
      return out;
    }
    for (;;) {
      Reply r;
      ReplyReader::Next next = reader.next(r);
      if (next == ReplyReader::Next::ProtocolError) {
        out.error = true;
        return out;
      }
      if (next == ReplyReader::Next::NeedMore) break;
      out.replies.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::size_t split = data[0] % (in.size() + 1);
  Outcome whole = read_all({in});
  Outcome halves = read_all({in.substr(0, split), in.substr(split)});
  FUZZ_CHECK(whole.error == halves.error);
  if (!whole.error) {
    FUZZ_CHECK(whole.replies.size() == halves.replies.size());
    for (std::size_t i = 0; i < whole.replies.size(); ++i) {
      FUZZ_CHECK(same(whole.replies[i], halves.replies[i]));
    }
  }

  std::vector<std::string_view> args;
  std::string_view rest = in;
  while (!rest.empty() && args.size() < 16) {
    std::size_t cut = rest.find('\n');
    args.push_back(rest.substr(0, cut));
    rest = cut == std::string_view::npos ? std::string_view() : rest.substr(cut + 1);
  }
  if (args.empty()) return 0;
  std::string command;
  pier::redis::append_command(command, args);
  Outcome echoed = read_all({command});
  FUZZ_CHECK(!echoed.error && echoed.replies.size() == 1);
  const Reply& array = echoed.replies[0];
  FUZZ_CHECK(array.type == Reply::Type::Array && array.elements.size() == args.size());
  for (std::size_t i = 0; i < args.size(); ++i) {
    FUZZ_CHECK(array.elements[i].type == Reply::Type::String && array.elements[i].str == args[i]);
  }
  return 0;
}
