// An apply against a homeserver that rate-limits every write the bot makes
// (mxsim's limiter at 10 requests a second, with almost no burst) slows down
// instead of failing: one pass converges, the next plan is empty, and
// --stats counts the repeated requests.

#include <catch2/catch.hpp>

#include <string>

#include "tests/e2e/fixture.h"

namespace rate_limit_test {

TEST_CASE("e2e: apply under a sustained rate limit converges in one pass and counts its retries",
          "[e2e][ratelimit]") {
  e2e::Fixture fx;
  mxsim::RateLimiter& limiter = fx.homeserver().rate_limiter();
  for (const char* action : {"message", "invite", "join"}) {
    limiter.configure(action, {10, 2});
  }
  limiter.set_enabled(true);
  fx.homeserver().journal().reset();

  auto apply = fx.mxctl({"apply", fx.manifests(), "--yes", "--stats"});
  INFO(apply.out << apply.err);
  REQUIRE(apply.exit_code == 0);
  const mxsim::JournalStats seen = fx.homeserver().journal().stats();
  INFO(seen.to_json().dump());
  // The limit was really hit, and every refusal was tried again.
  REQUIRE(seen.by_status.count(429));
  const e2e::ClientStats reported = e2e::client_stats_in(apply.err);
  CHECK(reported.retried > 0);
  CHECK(reported.retried >= static_cast<int>(seen.by_status.at(429)));

  auto plan = fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"});
  INFO(plan.out << plan.err);
  CHECK(plan.exit_code == 0);
  CHECK(plan.out == "No changes. The homeserver matches the desired state.\n");
}

}  // namespace rate_limit_test
