// The memory allocator's settings. Release builds link jemalloc (Debian's libjemalloc2): it keeps
// objects of one size class together, so the small state of thousands of idle keep-alive
// connections does not pin pages between the freed frames and buffers of the requests they
// served, which glibc's malloc does (2,000 idle connections opened in bursts of 100 by
// bench/idle_conns.py: 2.9 KiB of RSS each with glibc, 1.0-1.3 KiB with jemalloc, 0.7-0.9 KiB once
// the workers also flush their thread caches (base/thread_cache.h); cache-hit throughput
// unchanged).
#ifdef PIER_JEMALLOC

// Read by jemalloc at its first allocation; MALLOC_CONF in the environment still overrides it.
// A background thread returns freed pages to the system within a second
// (dirty_decay_ms), without waiting for further allocations to notice, and without the
// madvise on every free that a decay of 0 would cost.
extern "C" {
const char* malloc_conf = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0";
}

#endif
