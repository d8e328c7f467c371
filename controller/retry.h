#pragma once
// When to try a failed homeserver call again, and how long to wait first.
// Only errors that may succeed on repetition (Error::retryable(): transient
// and rate_limited) are retried; forbidden, invalid, conflict, not_found and
// unreachable (another server that did not answer: it would only time out
// again within the pass) are terminal. Waits use exponential backoff with full jitter (a uniform
// draw between zero and the exponential ceiling), so that many clients
// failing together do not come back together; a rate limit that names its
// own wait is obeyed, within a cap.

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
  /// Attempts in all, the first included; 1 means never retry.
  int max_attempts = 6;
  /// Ceiling of the first backoff; each later one doubles it.
  std::chrono::milliseconds base_delay{200};
  /// No backoff ceiling grows beyond this.
  std::chrono::milliseconds max_delay{10'000};
  /// A server's `retry_after` is honoured up to this, so that a confused or
  /// hostile server cannot park the controller for hours.
  std::chrono::milliseconds max_retry_after{60'000};
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

/// How long to wait before trying again after `error` ended attempt number
/// `failed_attempts` (1 for the first), or nullopt when there is no further
/// attempt: the error is not retryable or max_attempts is used up.
/// - rate_limited with retry_after: that wait, capped at max_retry_after
///   (no jitter: the server said when, and earlier would be refused again);
/// - transient, or rate_limited without retry_after: a uniform draw from
///   [0, backoff_ceiling(policy, failed_attempts)] taken from `rng`.
std::optional<std::chrono::milliseconds> retry_delay(const RetryPolicy& policy, const model::Error& error,
                                                     int failed_attempts, JitterEngine& rng);

}  // namespace controller
