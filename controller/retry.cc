#include "controller/retry.h"

#include <algorithm>
#include <thread>

namespace controller {

void sleep_for_real(std::chrono::milliseconds delay) {
  if (delay > std::chrono::milliseconds::zero()) {
    std::this_thread::sleep_for(delay);
  }
}

std::chrono::milliseconds backoff_ceiling(const RetryPolicy& policy, int failed_attempts) {
  if (failed_attempts < 1 || policy.base_delay <= std::chrono::milliseconds::zero()) {
    return std::chrono::milliseconds::zero();
  }
  const std::int64_t cap = std::max<std::int64_t>(policy.max_delay.count(), 0);
  std::int64_t ceiling = policy.base_delay.count();
  // Doubling step by step and stopping at the cap keeps the arithmetic in
  // range for any attempt count, where a shift by the count would overflow.
  for (int i = 1; i < failed_attempts && ceiling < cap; ++i) {
    ceiling *= 2;
  }
  return std::chrono::milliseconds(std::min(ceiling, cap));
}

std::optional<std::chrono::milliseconds> retry_delay(const RetryPolicy& policy, const model::Error& error,
                                                     int failed_attempts, JitterEngine& rng) {
  if (!error.retryable() || failed_attempts >= policy.max_attempts) {
    return std::nullopt;
  }
  if (error.kind == model::Error::Kind::rate_limited && error.retry_after) {
    std::chrono::milliseconds wait = std::max(*error.retry_after, std::chrono::milliseconds::zero());
    return std::min(wait, policy.max_retry_after);
  }
  const std::int64_t ceiling = backoff_ceiling(policy, failed_attempts).count();
  if (ceiling <= 0) {
    return std::chrono::milliseconds::zero();
  }
  // A plain modulo rather than std::uniform_int_distribution: the
  // distribution's algorithm is left to the library, the engine's output is
  // not, and tests pin exact delays. The bias is below 2^-40 for these ranges.
  const auto span = static_cast<std::uint64_t>(ceiling) + 1;
  return std::chrono::milliseconds(static_cast<std::int64_t>(rng() % span));
}

}  // namespace controller
