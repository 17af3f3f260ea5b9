// GCRA (the generic cell rate algorithm, equivalent to a token bucket) as pure arithmetic on a
// theoretical arrival time (TAT). No I/O, no clock: the caller passes the time, so the same math
// runs in the local store, is mirrored by the Redis script, and is tested to the microsecond.
//
// A limit of `rate` requests per `period` with `burst` B lets B requests through at once, then
// one per emission interval T = period / rate. State per key: TAT, the time at which the bucket
// would be full again; a key whose TAT has passed is the same as an unknown key.
#pragma once

#include <cstdint>

namespace pier::ratelimit {

struct Limit {
  std::int64_t interval_us = 0;  // T: emission interval
  std::int64_t burst = 1;        // B: requests allowed at once, >= 1

  std::int64_t tolerance_us() const { return interval_us * burst; }  // tau = B * T
};

// "100/s" style rates: `count` requests per `period_us`.
Limit make_limit(std::int64_t count, std::int64_t period_us, std::int64_t burst);

struct Decision {
  bool allowed = false;
  std::int64_t tat_us = 0;          // the new TAT to store (unchanged when denied)
  std::int64_t remaining = 0;       // requests that would still pass right now
  std::int64_t retry_after_us = 0;  // denied: wait this long for one request to pass
  std::int64_t reset_us = 0;        // until the bucket is full again (the state may be dropped)
};

// One request at `now_us` against the stored TAT (0 or a past time when the key is unknown).
Decision decide(const Limit& limit, std::int64_t tat_us, std::int64_t now_us);

}  // namespace pier::ratelimit
