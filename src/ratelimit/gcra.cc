#include "ratelimit/gcra.h"

#include <algorithm>

namespace pier::ratelimit {

Limit make_limit(std::int64_t count, std::int64_t period_us, std::int64_t burst) {
  Limit l;
  l.interval_us = std::max<std::int64_t>(1, period_us / std::max<std::int64_t>(1, count));
  l.burst = std::max<std::int64_t>(1, burst);
  return l;
}

Decision decide(const Limit& limit, std::int64_t tat_us, std::int64_t now_us) {
  Decision d;
  const std::int64_t tau = limit.tolerance_us();
  const std::int64_t tat = std::max(tat_us, now_us);
  const std::int64_t new_tat = tat + limit.interval_us;
  if (new_tat - now_us <= tau) {
    d.allowed = true;
    d.tat_us = new_tat;
    d.remaining = (tau - (new_tat - now_us)) / limit.interval_us;
    d.reset_us = new_tat - now_us;
    return d;
  }
  d.allowed = false;
  d.tat_us = tat;
  d.remaining = 0;
  d.retry_after_us = new_tat - now_us - tau;
  d.reset_us = tat - now_us;
  return d;
}

}  // namespace pier::ratelimit
