// The example instance as its people meet it in a real Matrix client
// (matrix-nio, tests/client/client_view.py), against mxsim: the same checks
// the real-server suite makes on Synapse, so mxsim answers those client
// calls as Synapse does.

#include <catch2/catch.hpp>

#include <string>

#include "tests/e2e/fixture.h"
#include "tests/support/client_view.h"

namespace client_view_test {

TEST_CASE("e2e: every person of the example sees in a Matrix client what the manifests promise",
          "[e2e][client_view]") {
  e2e::Fixture fx;
  auto applied = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(applied.out << applied.err);
  REQUIRE(applied.exit_code == 0);
  auto desired = fx.mxctl({"desired", fx.manifests(), "-o", "json"});
  REQUIRE(desired.exit_code == 0);
  auto view = testing_support::run_client_view(fx.server().base_url(), fx.token(), desired.out, e2e::k_bot,
                                               fx.scratch("."));
  INFO(view.out << view.err);
  CHECK(view.exit_code == 0);
  // Each kind of check ran: the two DMs' four invites and openings, and
  // refusals in the bands below a rename and a kick.
  auto counts = testing_support::client_view_counts(view.out);
  CHECK(counts["people"] == 19);
  CHECK(counts["problems"] == 0);
  CHECK(counts["direct_invites"] == 4);
  CHECK(counts["openings"] == 4);
  CHECK(counts["refused_renames_at_0"] > 0);
  CHECK(counts["refused_kicks_at_25"] > 0);
  CHECK(counts["hierarchies"] > 0);
  // Accepting the invites changed nothing mxctl manages.
  auto plan = fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"});
  INFO(plan.out << plan.err);
  CHECK(plan.exit_code == 0);
}

}  // namespace client_view_test
