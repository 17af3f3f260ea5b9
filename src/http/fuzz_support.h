// Shared by the libFuzzer targets of src/http: an invariant check that aborts (which libFuzzer
// reports as a crash), and the scanner cross-check every head parser target starts with.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "http/head_scanner.h"

#define FUZZ_CHECK(cond)                                                                  \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "invariant failed: %s at %s:%d\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)

namespace pier::http::fuzz {

// True when `part` lies within `whole` (an empty view lies anywhere).
inline bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

// Scans `in` whole and byte by byte: both must give the same answer at the same place.
inline ScanStatus scan_both_ways(std::string_view in, std::size_t max_line, std::size_t max_head,
                                 std::size_t& head_size) {
  HeadScanner whole(max_line, max_head);
  ScanStatus status = whole.scan(in);
  HeadScanner bytewise(max_line, max_head);
  ScanStatus bytewise_status = ScanStatus::Incomplete;
  for (std::size_t n = 1; n <= in.size() && bytewise_status == ScanStatus::Incomplete; ++n) {
    bytewise_status = bytewise.scan(in.substr(0, n));
  }
  FUZZ_CHECK(bytewise_status == status);
  head_size = 0;
  if (status == ScanStatus::Complete) {
    FUZZ_CHECK(bytewise.head_size() == whole.head_size());
    FUZZ_CHECK(whole.head_size() <= in.size() && whole.head_size() <= max_head);
    head_size = whole.head_size();
    FUZZ_CHECK(in.substr(0, head_size).ends_with("\r\n\r\n"));
  }
  return status;
}

}  // namespace pier::http::fuzz
