// When a failed attempt may be tried again, and how long to wait first. Pure logic; the retry
// budget (upstream/retry_budget.h) is checked by the caller after this says yes.
#pragma once

#include <cstdint>

#include "balancing/balancer.h"
#include "base/units.h"
#include "http/message.h"
#include "upstream/options.h"

namespace pier::proxy {

enum class Failure {
  ConnectFailure,  // refused, unreachable or connect timeout: the backend saw nothing
  Reset,           // the connection failed after the request was (partly) sent
  Timeout,         // no response head in time
  Status,          // a response whose status is in retry.on
};

enum class Reached { No, Yes };     // did any byte of the request reach the backend?
enum class Replayable { No, Yes };  // can the request body be sent again?

struct AttemptOutcome {
  Failure failure;
  int status = 0;
  std::uint32_t attempts_done = 1;
  Reached reached = Reached::Yes;
  Replayable replayable = Replayable::Yes;
  http::Method method = http::Method::Get;
  bool idempotency_key = false;  // the request carries an Idempotency-Key header
};

// RFC 9110 §9.2.2, widened by retry.idempotency_key to requests that carry an Idempotency-Key.
bool may_repeat(const upstream::RetryOptions& options, http::Method method, bool idempotency_key);

bool may_retry(const upstream::RetryOptions& options, const AttemptOutcome& outcome);

// Exponential backoff with full jitter: uniform in [0, min(max, base * 2^(retry-1))].
Duration retry_backoff(const upstream::RetryOptions& options, std::uint32_t retry_number,
                       balancing::Rng& rng);

}  // namespace pier::proxy
