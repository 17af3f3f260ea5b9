// libFuzzer target: decode() must refuse or accept any bytes without crashing, and whatever it
// accepts must encode back to the same bytes. The input is decoded as it is (the checksum
// refuses nearly everything) and with a valid checksum appended (which reaches the parsing).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cache/entry_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  std::string sealed = pier::cache::with_checksum(raw);
  for (std::string_view bytes : {raw, std::string_view(sealed)}) {
    auto decoded = pier::cache::decode(bytes);
    if (decoded && decoded->kind == pier::cache::Decoded::Kind::Entry) {
      if (pier::cache::encode_entry(decoded->entry) != bytes) __builtin_trap();
    }
  }
  return 0;
}
