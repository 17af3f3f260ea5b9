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
  return http::is_idempotent(outcome.method) && outcome.replayable == Replayable::Yes;
}

Duration retry_backoff(const upstream::RetryOptions& options, std::uint32_t retry_number,
                       balancing::Rng& rng) {
  std::uint32_t shift = std::min<std::uint32_t>(retry_number > 0 ? retry_number - 1 : 0, 20);
  Duration ceiling = std::min<Duration>(options.backoff_base * (1ll << shift), options.backoff_max);
  if (ceiling <= Duration::zero()) return Duration::zero();
  return Duration(static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(ceiling.count()) + 1)));
}

}  // namespace pier::proxy
