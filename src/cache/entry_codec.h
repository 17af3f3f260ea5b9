// The binary form of stored responses in Redis: versioned and checksummed, so that a value that
// is truncated, corrupt, or written by an incompatible version reads back as "nothing" (a miss),
// never as a response. No I/O.
//
// A value is either an entry, or a Vary marker: the request fields that select among the
// variants stored under the same URL, each under its own key (variant_key()).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cache/entry.h"

namespace pier::cache {

inline constexpr unsigned char kCodecVersion = 1;

// The stored fields, vary selection, times and body; derived facts are not encoded (describe()
// recomputes them with the reading route's policy).
std::string encode_entry(const Entry& entry);
std::string encode_vary_marker(const std::vector<std::string>& field_names);

struct Decoded {
  enum class Kind { Entry, VaryMarker };
  Kind kind = Kind::Entry;
  Entry entry;                          // Kind::Entry
  std::vector<std::string> vary_names;  // Kind::VaryMarker
};
std::optional<Decoded> decode(std::string_view bytes);

// `bytes` with the checksum a value ends with appended: lets the fuzzer reach the decoder's
// parsing behind the checksum.
std::string with_checksum(std::string_view bytes);

// The key of one variant: the URL's key and the selecting fields' normalised values.
std::string variant_key(std::string_view key, const std::vector<StoredField>& selection);

}  // namespace pier::cache
