// The backoff policy: which errors are retried, how the backoff ceiling
// grows, that jitter stays under it and is reproducible from a seed, that a
// server's retry_after is obeyed (never sooner, with jitter, within a cap),
// and that rate limits are waited out within a budget rather than counted
// as failed attempts.

#include "controller/retry.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <set>
#include <vector>

namespace retry_test {

namespace {

using std::chrono::milliseconds;
using Kind = model::Error::Kind;

model::Error error_of(Kind kind, std::optional<milliseconds> retry_after = std::nullopt) {
  return model::Error{kind, "fake error", retry_after, {}};
}

}  // namespace

TEST_CASE("retry: terminal errors are never retried", "[retry]") {
  controller::RetryPolicy policy;
  controller::JitterEngine rng(1);
  // unreachable: the server behind the request would only time out again.
  for (Kind kind : {Kind::invalid, Kind::not_found, Kind::conflict, Kind::forbidden, Kind::unreachable}) {
    CAPTURE(model::to_string(kind));
    controller::RetryState state;
    CHECK_FALSE(controller::retry_delay(policy, error_of(kind), state, rng).has_value());
  }
  controller::RetryState state;
  CHECK(controller::retry_delay(policy, error_of(Kind::transient), state, rng).has_value());
  CHECK(controller::retry_delay(policy, error_of(Kind::rate_limited), state, rng).has_value());
}

TEST_CASE("retry: the backoff ceiling doubles from the base up to the cap", "[retry]") {
  controller::RetryPolicy policy;  // 200 ms base, 10 s cap
  std::vector<long long> ceilings;
  for (int failed = 0; failed <= 8; ++failed) {
    ceilings.push_back(controller::backoff_ceiling(policy, failed).count());
  }
  CHECK(ceilings == std::vector<long long>{0, 200, 400, 800, 1600, 3200, 6400, 10'000, 10'000});
  SECTION("a huge attempt count stays at the cap instead of overflowing") {
    CHECK(controller::backoff_ceiling(policy, 1'000'000) == milliseconds(10'000));
  }
  SECTION("the knobs are the policy's") {
    policy.base_delay = milliseconds(50);
    policy.max_delay = milliseconds(120);
    CHECK(controller::backoff_ceiling(policy, 1) == milliseconds(50));
    CHECK(controller::backoff_ceiling(policy, 2) == milliseconds(100));
    CHECK(controller::backoff_ceiling(policy, 3) == milliseconds(120));
  }
}

TEST_CASE("retry: transient delays are full jitter under the ceiling, fixed by the seed", "[retry]") {
  controller::RetryPolicy policy;
  policy.max_attempts = 100;
  controller::JitterEngine rng(42);
  controller::RetryState state;
  std::vector<long long> delays;
  for (int failed = 1; failed <= 7; ++failed) {
    std::optional<milliseconds> delay = controller::retry_delay(policy, error_of(Kind::transient), state, rng);
    REQUIRE(delay.has_value());
    CHECK(state.transient_failures == failed);
    CHECK(*delay >= milliseconds::zero());
    CHECK(*delay <= controller::backoff_ceiling(policy, failed));
    delays.push_back(delay->count());
  }
  // mt19937_64's output is fixed by the standard, so these hold everywhere.
  CHECK(delays == std::vector<long long>{81, 2, 157, 131, 2876, 6184, 5306});
}

TEST_CASE("retry: a rate limit waits at least retry_after, plus jitter, capped", "[retry]") {
  controller::RetryPolicy policy;
  SECTION("never sooner than the server asked, at most half as long again") {
    for (std::uint64_t seed = 0; seed < 50; ++seed) {
      controller::JitterEngine rng(seed);
      controller::RetryState state;
      auto delay = controller::retry_delay(policy, error_of(Kind::rate_limited, milliseconds(1500)), state, rng);
      REQUIRE(delay.has_value());
      CHECK(*delay >= milliseconds(1500));
      CHECK(*delay <= milliseconds(2250));
      CHECK(state.rate_limited_wait == *delay);
    }
  }
  SECTION("operations limited together do not come back together") {
    // The executor seeds each operation's engine differently.
    std::set<long long> waits;
    for (std::uint64_t seed = 0; seed < 8; ++seed) {
      controller::JitterEngine rng(seed);
      controller::RetryState state;
      waits.insert(controller::retry_delay(policy, error_of(Kind::rate_limited, milliseconds(1000)), state, rng)
                       ->count());
    }
    CHECK(waits.size() >= 6);
  }
  SECTION("a short retry_after still spreads over half the base delay") {
    controller::JitterEngine rng(5);
    controller::RetryState state;
    auto delay = controller::retry_delay(policy, error_of(Kind::rate_limited, milliseconds(1)), state, rng);
    REQUIRE(delay.has_value());
    CHECK(*delay >= milliseconds(1));
    CHECK(*delay <= milliseconds(101));
  }
  SECTION("a wait beyond max_retry_after is cut to it (then jittered)") {
    controller::JitterEngine rng(7);
    controller::RetryState state;
    auto delay = controller::retry_delay(policy, error_of(Kind::rate_limited, std::chrono::minutes(30)), state, rng);
    REQUIRE(delay.has_value());
    CHECK(*delay >= milliseconds(60'000));
    CHECK(*delay <= milliseconds(90'000));
  }
  SECTION("without retry_after it backs off, never below the base delay") {
    controller::JitterEngine rng(7);
    controller::RetryState state;
    for (int failed = 1; failed <= 3; ++failed) {
      auto delay = controller::retry_delay(policy, error_of(Kind::rate_limited), state, rng);
      REQUIRE(delay.has_value());
      CHECK(*delay >= policy.base_delay);
      CHECK(*delay <= controller::backoff_ceiling(policy, failed) + policy.base_delay);
    }
  }
}

TEST_CASE("retry: rate limits are waited out within a budget, not counted as failed attempts", "[retry]") {
  controller::RetryPolicy policy;
  policy.max_attempts = 3;
  controller::JitterEngine rng(3);
  controller::RetryState state;
  const model::Error limited = error_of(Kind::rate_limited, milliseconds(100));
  // Far more 429s than max_attempts: each one is waited out.
  for (int i = 0; i < 50; ++i) {
    REQUIRE(controller::retry_delay(policy, limited, state, rng).has_value());
  }
  CHECK(state.rate_limited_failures == 50);
  CHECK(state.transient_failures == 0);
  SECTION("transient failures still end at max_attempts, whatever the 429s before") {
    CHECK(controller::retry_delay(policy, error_of(Kind::transient), state, rng).has_value());
    CHECK(controller::retry_delay(policy, error_of(Kind::transient), state, rng).has_value());
    CHECK_FALSE(controller::retry_delay(policy, error_of(Kind::transient), state, rng).has_value());
  }
  SECTION("no wait is offered that would go past the budget") {
    policy.rate_limit_budget = state.rate_limited_wait + milliseconds(120);
    const auto before = state.rate_limited_wait;
    CHECK_FALSE(controller::retry_delay(policy, error_of(Kind::rate_limited, milliseconds(200)), state, rng));
    CHECK(state.rate_limited_wait == before);
  }
}

TEST_CASE("retry: no delay is offered once max_attempts transient failures are used up", "[retry]") {
  controller::RetryPolicy policy;
  policy.max_attempts = 3;
  controller::JitterEngine rng(3);
  controller::RetryState state;
  const model::Error failed = error_of(Kind::transient);
  CHECK(controller::retry_delay(policy, failed, state, rng).has_value());
  CHECK(controller::retry_delay(policy, failed, state, rng).has_value());
  CHECK_FALSE(controller::retry_delay(policy, failed, state, rng).has_value());
  SECTION("one attempt means never retry") {
    policy.max_attempts = 1;
    controller::RetryState fresh;
    CHECK_FALSE(controller::retry_delay(policy, failed, fresh, rng).has_value());
  }
}

}  // namespace retry_test
