// libFuzzer target: decode() must refuse or accept any bytes without crashing, and whatever it
// accepts must encode back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cache/entry_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto decoded = pier::cache::decode(bytes);
  if (decoded && decoded->kind == pier::cache::Decoded::Kind::Entry) {
    if (pier::cache::encode_entry(decoded->entry) != bytes) __builtin_trap();
  }
  return 0;
}
