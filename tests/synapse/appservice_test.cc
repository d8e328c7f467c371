// `provisioning: appservice` against a real Synapse that loads mxctl's
// registration: the example converges with the as_token alone, drift made
// by hand is repaired, and a council taken out of the manifests is archived.

#include <catch2/catch.hpp>

#include "tests/synapse/fixture.h"
#include "tests/synapse/scenarios.h"
#include "tests/synapse/truth.h"

namespace appservice_test {

using synapse_e2e::Fixture;

TEST_CASE("synapse: appservice provisioning converges, repairs drift and archives", "[synapse][appservice]") {
  synapse_e2e::FixtureOptions options;
  options.appservice = true;
  auto fx = Fixture::create(options);
  if (!fx) {
    return;
  }
  fx->apply({"--now", "2026-01-01"});
  // The accounts are the appservice's, made through its registration.
  auto alice = fx->server().user(fx->user_id("alice"));
  REQUIRE(alice);
  CHECK(alice->value("appservice_id", nlohmann::json()) == "mxctl-e2e");
  auto problems = synapse_e2e::convergence_problems(*fx, fx->example());
  INFO(synapse_e2e::lines(problems));
  CHECK(problems.empty());
  auto converged = fx->plan({"--now", "2026-01-01"});
  INFO(synapse_e2e::shown(converged));
  CHECK(converged.exit_code == 0);

  const auto drift = synapse_e2e::make_drift(*fx);
  auto drifted = fx->plan({"--now", "2026-01-01"});
  INFO(synapse_e2e::shown(drifted));
  CHECK(drifted.exit_code == 2);
  synapse_e2e::check_drift_planned(drift, drifted.out);
  fx->apply({"--now", "2026-01-01"});
  synapse_e2e::check_drift_repaired(*fx, drift);
  auto repaired = fx->plan({"--now", "2026-01-01"});
  INFO(synapse_e2e::shown(repaired));
  CHECK(repaired.exit_code == 0);

  fx->drop_document("councils.yaml", "stewards");
  fx->apply({"--now", "2026-01-01"});
  synapse_e2e::check_archived(*fx, synapse_e2e::k_stewards, "2026-01-01", "2026-03-02");
  auto archived = fx->plan({"--now", "2026-01-01"});
  INFO(synapse_e2e::shown(archived));
  CHECK(archived.exit_code == 0);
}

}  // namespace appservice_test
