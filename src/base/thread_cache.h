// The allocator's per-thread cache of freed objects.
#pragma once

namespace pier {

// Hands the calling thread's cached free objects back to the allocator, so that the pages they
// sit in can return to the system. Only jemalloc (linked into every build without the sanitizers)
// needs it: a worker's thread cache fills up while a burst of connections comes and goes, and
// jemalloc flushes it only as that thread goes on allocating, which a quiet worker does not. A
// no-op with any other allocator.
void flush_thread_cache();

}  // namespace pier
