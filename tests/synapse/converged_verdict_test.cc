// The converged verdict on a real Synapse: once a reconcile finds nothing to
// do, the next is answered by repeating its reads (Synapse answers the
// account list with the same bytes, and an incremental /sync names no
// room); drift made by hand ends it and is repaired, and the verdict answers
// again once the server shows what it showed.

#include <catch2/catch.hpp>

#include "tests/synapse/fixture.h"
#include "tests/synapse/scenarios.h"

namespace converged_verdict_test {

using synapse_e2e::Fixture;

namespace {

// A `reconcile --stats`: whether the converged verdict answered it.
bool reconcile_unchanged(const Fixture& fx, const std::string& expect_in_out) {
  auto pass = fx.mxctl({"reconcile", fx.manifests(), "--stats"});
  INFO(synapse_e2e::shown(pass));
  REQUIRE(pass.exit_code == 0);
  CHECK(pass.out.find(expect_in_out) != std::string::npos);
  return pass.err.find("(the converged verdict)") != std::string::npos;
}

}  // namespace

TEST_CASE("synapse: a converged reconcile is answered by its verdict until drift ends it",
          "[synapse][converged_verdict]") {
  auto fx = Fixture::create();
  if (!fx) {
    return;
  }
  fx->apply();
  // The pass after the apply re-reads the rooms it wrote; the next keeps a
  // verdict, which answers the one after.
  const std::string none = "No changes.";
  CHECK_FALSE(reconcile_unchanged(*fx, none));
  CHECK_FALSE(reconcile_unchanged(*fx, none));
  CHECK(reconcile_unchanged(*fx, none));
  CHECK(reconcile_unchanged(*fx, none));

  const auto drift = synapse_e2e::make_drift(*fx);
  CHECK_FALSE(reconcile_unchanged(*fx, "Apply complete!"));
  synapse_e2e::check_drift_repaired(*fx, drift);
  // The repair's rooms are re-read; the state read is the state the verdict
  // was kept for (a repair restores each event's content), so the kept
  // verdict answers the pass after.
  CHECK_FALSE(reconcile_unchanged(*fx, none));
  CHECK(reconcile_unchanged(*fx, none));
}

}  // namespace converged_verdict_test
