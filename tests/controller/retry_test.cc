// The backoff policy: which errors are retried, how the backoff ceiling
// grows, that jitter stays under it and is reproducible from a seed, and
// that a server's retry_after is obeyed within a cap.

#include "controller/retry.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <vector>

namespace {

using std::chrono::milliseconds;
using Kind = model::Error::Kind;

model::Error error_of(Kind kind, std::optional<milliseconds> retry_after = std::nullopt) {
  return model::Error{kind, "fake error", retry_after};
}

}  // namespace

TEST_CASE("retry: terminal errors are never retried", "[retry]") {
  controller::RetryPolicy policy;
  controller::JitterEngine rng(1);
  // unreachable: the server behind the request would only time out again.
  for (Kind kind : {Kind::invalid, Kind::not_found, Kind::conflict, Kind::forbidden, Kind::unreachable}) {
    CAPTURE(model::to_string(kind));
    CHECK_FALSE(controller::retry_delay(policy, error_of(kind), 1, rng).has_value());
  }
  CHECK(controller::retry_delay(policy, error_of(Kind::transient), 1, rng).has_value());
  CHECK(controller::retry_delay(policy, error_of(Kind::rate_limited), 1, rng).has_value());
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
  std::vector<long long> delays;
  for (int failed = 1; failed <= 7; ++failed) {
    std::optional<milliseconds> delay = controller::retry_delay(policy, error_of(Kind::transient), failed, rng);
    REQUIRE(delay.has_value());
    CHECK(*delay >= milliseconds::zero());
    CHECK(*delay <= controller::backoff_ceiling(policy, failed));
    delays.push_back(delay->count());
  }
  // mt19937_64's output is fixed by the standard, so these hold everywhere.
  CHECK(delays == std::vector<long long>{81, 2, 157, 131, 2876, 6184, 5306});
}

TEST_CASE("retry: rate limits wait retry_after, capped, or back off without it", "[retry]") {
  controller::RetryPolicy policy;
  controller::JitterEngine rng(7);
  SECTION("the server's wait is taken as it is") {
    CHECK(controller::retry_delay(policy, error_of(Kind::rate_limited, milliseconds(1500)), 1, rng) ==
          milliseconds(1500));
  }
  SECTION("a wait beyond max_retry_after is cut to it") {
    CHECK(controller::retry_delay(policy, error_of(Kind::rate_limited, std::chrono::minutes(30)), 1, rng) ==
          milliseconds(60'000));
    policy.max_retry_after = milliseconds(5000);
    CHECK(controller::retry_delay(policy, error_of(Kind::rate_limited, milliseconds(9000)), 1, rng) ==
          milliseconds(5000));
  }
  SECTION("without retry_after it is ordinary backoff") {
    std::optional<milliseconds> delay = controller::retry_delay(policy, error_of(Kind::rate_limited), 3, rng);
    REQUIRE(delay.has_value());
    CHECK(*delay <= milliseconds(800));
  }
}

TEST_CASE("retry: no delay is offered once max_attempts is used up", "[retry]") {
  controller::RetryPolicy policy;
  policy.max_attempts = 3;
  controller::JitterEngine rng(3);
  const model::Error limited = error_of(Kind::rate_limited, milliseconds(10));
  CHECK(controller::retry_delay(policy, limited, 1, rng).has_value());
  CHECK(controller::retry_delay(policy, limited, 2, rng).has_value());
  CHECK_FALSE(controller::retry_delay(policy, limited, 3, rng).has_value());
  SECTION("one attempt means never retry") {
    policy.max_attempts = 1;
    CHECK_FALSE(controller::retry_delay(policy, error_of(Kind::transient), 1, rng).has_value());
  }
}
