#pragma once
// When to try a failed homeserver call again, and how long to wait first.
// Only errors that may succeed on repetition (Error::retryable(): transient
// and rate_limited) are retried; forbidden, invalid, conflict, not_found and
// unreachable (another server that did not answer: it would only time out
// again within the pass) are terminal. Transient failures back off
// exponentially with full jitter (a uniform draw between zero and the
// exponential ceiling), so that many clients failing together do not come
// back together, and give up after a few attempts. A rate limit is the
// server asking the pass to slow down, not a failure: it is waited out as
// long as the operation's budget lasts, each wait at least what the server
// asked for plus jitter.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>

#include "model/result.h"

namespace controller {

/// How persistent to be. Every knob is a plain value so that callers and
/// tests can set them; the defaults suit a homeserver under ordinary load.
struct RetryPolicy {
  /// Attempts in all, the first included, when they fail transiently; 1
  /// means never retry. Rate-limited attempts are not counted here.
  int max_attempts = 6;
  /// Ceiling of the first backoff; each later one doubles it.
  std::chrono::milliseconds base_delay{200};
  /// No backoff ceiling grows beyond this.
  std::chrono::milliseconds max_delay{10'000};
  /// A server's `retry_after` is honoured up to this, so that a confused or
  /// hostile server cannot park the controller for hours.
  std::chrono::milliseconds max_retry_after{60'000};
  /// The longest one operation waits out rate limits in all before it
  /// fails (the pass deadline may end it sooner).
  std::chrono::milliseconds rate_limit_budget{30 * 60'000};
};

/// What one operation's failed attempts have used of its policy so far.
struct RetryState {
  int transient_failures = 0;     ///< attempts that failed transiently
  int rate_limited_failures = 0;  ///< attempts refused for the rate
  std::chrono::milliseconds rate_limited_wait{0};  ///< waited after those
};

/// Waits for the given time. Injected so tests can record waits instead of
/// sleeping; an empty Sleeper means "sleep for real" wherever one is taken.
using Sleeper = std::function<void(std::chrono::milliseconds)>;

/// Blocks the calling thread for `delay` (std::this_thread::sleep_for).
void sleep_for_real(std::chrono::milliseconds delay);

/// The random source for jitter. A 64-bit Mersenne Twister, whose output the
/// standard fixes, so a seeded engine gives the same delays everywhere.
using JitterEngine = std::mt19937_64;

/// The upper bound of the backoff before attempt `failed_attempts + 1`:
/// base_delay * 2^(failed_attempts - 1), capped at max_delay; zero when
/// failed_attempts < 1. Never overflows, whatever the attempt count.
std::chrono::milliseconds backoff_ceiling(const RetryPolicy& policy, int failed_attempts);

/// Counts `error`, which ended an attempt, in `state` and says how long to
/// wait before the next attempt (added to state.rate_limited_wait for a
/// rate limit), or nullopt when there is none:
/// - not retryable: none;
/// - transient: none once state.transient_failures reaches max_attempts,
///   else a uniform draw from [0, backoff_ceiling(transient_failures)];
/// - rate_limited with retry_after: that wait (capped at max_retry_after)
///   plus a uniform draw from [0, max(wait, base_delay) / 2], never less
///   than the server asked, so parallel operations limited together do not
///   come back together; without retry_after: backoff over
///   rate_limited_failures, at least base_delay; none once the waits would
///   pass rate_limit_budget.
std::optional<std::chrono::milliseconds> retry_delay(const RetryPolicy& policy, const model::Error& error,
                                                     RetryState& state, JitterEngine& rng);

}  // namespace controller
