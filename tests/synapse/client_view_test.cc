// The example instance on a real Synapse as its people meet it in a real
// Matrix client (matrix-nio, tests/client/client_view.py): every person logs
// in, accepts the invites and finds names, topics, encryption, power levels
// and their limits, direct chats and the spaces' hierarchy as the manifests
// promise. The end-to-end suite runs the same checks against mxsim.

#include <catch2/catch.hpp>

#include "tests/support/client_view.h"
#include "tests/synapse/fixture.h"

namespace client_view_test {

using synapse_e2e::Fixture;

TEST_CASE("synapse: every person of the example sees in a Matrix client what the manifests promise",
          "[synapse][client_view]") {
  auto fx = Fixture::create();
  if (!fx) {
    return;
  }
  fx->apply();
  auto view = testing_support::run_client_view(fx->server().base_url(), fx->server().admin_token(),
                                               fx->example().dump(), fx->bot(), fx->scratch("."));
  testing_support::check_example_client_view(view);
  // Joining and being refused changed nothing mxctl manages.
  auto plan = fx->plan();
  INFO(synapse_e2e::shown(plan));
  CHECK(plan.exit_code == 0);
}

}  // namespace client_view_test
