#include "base/thread_cache.h"

#include <cstddef>

// jemalloc's control interface, resolved only when jemalloc is linked in (weak: null otherwise).
extern "C" int mallctl(const char* name, void* oldp, std::size_t* oldlenp, void* newp,
                       std::size_t newlen) __attribute__((weak));

namespace pier {

void flush_thread_cache() {
  if (mallctl != nullptr) mallctl("thread.tcache.flush", nullptr, nullptr, nullptr, 0);
}

}  // namespace pier
