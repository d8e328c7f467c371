// Drift made by hand on a real Synapse after the example converged: a power
// level lowered, a council member kicked, a room renamed and a space link
// removed. The plan shows each, one apply repairs each as the server shows,
// and the next plan is empty. A repaired power-level event keeps the keys
// mxctl does not manage (Synapse's "historical").

#include <catch2/catch.hpp>

#include "tests/synapse/fixture.h"
#include "tests/synapse/scenarios.h"

namespace drift_test {

using synapse_e2e::Fixture;

TEST_CASE("synapse: drift made by hand is planned, repaired, and the next plan is empty", "[synapse][drift]") {
  auto fx = Fixture::create();
  if (!fx) {
    return;
  }
  fx->apply();
  const auto drift = synapse_e2e::make_drift(*fx);

  auto plan = fx->plan();
  INFO(synapse_e2e::shown(plan));
  CHECK(plan.exit_code == 2);
  synapse_e2e::check_drift_planned(drift, plan.out);

  fx->apply();
  synapse_e2e::check_drift_repaired(*fx, drift);
  auto again = fx->plan();
  INFO(synapse_e2e::shown(again));
  CHECK(again.exit_code == 0);
}

}  // namespace drift_test
