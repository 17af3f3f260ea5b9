#include "proxy/retry_policy.h"

#include <algorithm>

namespace pier::proxy {

bool may_retry(const upstream::RetryOptions& options, const AttemptOutcome& outcome) {
  if (outcome.attempts_done >= options.attempts) return false;
  bool enabled = false;
  switch (outcome.failure) {
    case Failure::ConnectFailure:
      enabled = options.on_connect_failure;
      break;
    case Failure::Reset:
      enabled = options.on_reset;
      break;
    case Failure::Timeout:
      enabled = options.on_timeout;
      break;
    case Failure::Status:
      enabled = options.retries_status(outcome.status);
      break;
  }
  if (!enabled) return false;
  // A request the backend never saw may go anywhere; otherwise only an idempotent request whose
  // body we still hold may be repeated.
  if (outcome.reached == Reached::No) return true;
  return may_repeat(options, outcome.method, outcome.idempotency_key) &&
         outcome.replayable == Replayable::Yes;
}

bool may_repeat(const upstream::RetryOptions& options, http::Method method, bool idempotency_key) {
  return http::is_idempotent(method) || (options.idempotency_key && idempotency_key);
}

Duration retry_backoff(const upstream::RetryOptions& options, std::uint32_t retry_number,
                       balancing::Rng& rng) {
  std::uint32_t shift = std::min<std::uint32_t>(retry_number > 0 ? retry_number - 1 : 0, 20);
  // base * 2^shift, compared by shifting max down: the product can overflow for long bases.
  Duration ceiling = options.backoff_base.count() <= (options.backoff_max.count() >> shift)
                         ? options.backoff_base * (std::int64_t{1} << shift)
                         : options.backoff_max;
  if (ceiling <= Duration::zero()) return Duration::zero();
  return Duration(
      static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(ceiling.count()) + 1)));
}

}  // namespace pier::proxy
