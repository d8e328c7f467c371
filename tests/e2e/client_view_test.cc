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
  testing_support::check_example_client_view(view);
  // Accepting the invites changed nothing mxctl manages.
  auto plan = fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"});
  INFO(plan.out << plan.err);
  CHECK(plan.exit_code == 0);
}

}  // namespace client_view_test
