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

namespace {

// A uniform draw from [0, ceiling]. A plain modulo rather than
// std::uniform_int_distribution: the distribution's algorithm is left to the
// library, the engine's output is not, and tests pin exact delays. The bias
// is below 2^-40 for these ranges.
std::chrono::milliseconds draw(std::int64_t ceiling, JitterEngine& rng) {
  if (ceiling <= 0) {
    return std::chrono::milliseconds::zero();
  }
  const auto span = static_cast<std::uint64_t>(ceiling) + 1;
  return std::chrono::milliseconds(static_cast<std::int64_t>(rng() % span));
}

}  // namespace

std::optional<std::chrono::milliseconds> retry_delay(const RetryPolicy& policy, const model::Error& error,
                                                     RetryState& state, JitterEngine& rng) {
  if (!error.retryable()) {
    return std::nullopt;
  }
  if (error.kind != model::Error::Kind::rate_limited) {
    if (++state.transient_failures >= policy.max_attempts) {
      return std::nullopt;
    }
    return draw(backoff_ceiling(policy, state.transient_failures).count(), rng);
  }
  ++state.rate_limited_failures;
  std::chrono::milliseconds wait;
  if (error.retry_after) {
    const auto asked = std::min(std::max(*error.retry_after, std::chrono::milliseconds::zero()), policy.max_retry_after);
    wait = asked + draw(std::max(asked, policy.base_delay).count() / 2, rng);
  } else {
    wait = std::max(policy.base_delay, draw(backoff_ceiling(policy, state.rate_limited_failures).count(), rng));
  }
  if (state.rate_limited_wait + wait > policy.rate_limit_budget) {
    return std::nullopt;
  }
  state.rate_limited_wait += wait;
  return wait;
}

}  // namespace controller
