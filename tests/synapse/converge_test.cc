// The example instance applied to a real Synapse: one apply converges it,
// the server then shows every room, alias, marker, power level, invite,
// encryption setting, space link and account the desired state asks for,
// and a second plan is empty, from the state store and without it.

#include <catch2/catch.hpp>

#include "tests/synapse/fixture.h"
#include "tests/synapse/truth.h"

namespace converge_test {

using synapse_e2e::Fixture;

TEST_CASE("synapse: the example converges in one apply and re-plans empty", "[synapse][converge]") {
  auto fx = Fixture::create();
  if (!fx) {
    return;
  }
  auto applied = fx->apply();
  CHECK(applied.out.find("Apply complete! Resources: 33 added, 0 changed, 0 destroyed.") != std::string::npos);

  const nlohmann::json& desired = fx->example();
  auto problems = synapse_e2e::convergence_problems(*fx, desired);
  INFO(synapse_e2e::lines(problems));
  CHECK(problems.empty());

  // One room per key, each the room its alias names; none unmarked.
  auto census = synapse_e2e::marker_census(*fx);
  for (const auto& [key, room] : desired.at("rooms").items()) {
    INFO(key);
    REQUIRE(census[key].size() == 1);
    CHECK(census[key].front() == fx->room_id(key));
    CHECK(census.count("") == 0);
  }
  CHECK(census.size() == desired.at("rooms").size());

  // Rooms are created complete: Synapse's own power levels it adds at
  // creation stay, and the bot is at 100.
  for (const auto& [key, room] : desired.at("rooms").items()) {
    INFO(key);
    auto levels = synapse_e2e::state_content(fx->room_state(key), "m.room.power_levels");
    CHECK(levels.value("historical", nlohmann::json()) == 100);
    CHECK(levels["users"].value(fx->bot(), 0) == 100);
  }

  auto plan = fx->plan();
  INFO(synapse_e2e::shown(plan));
  CHECK(plan.exit_code == 0);
  CHECK(plan.out == "No changes. The homeserver matches the desired state.\n");

  // A store lost (or a second operator's machine): the server alone says
  // it is converged, read through one initial /sync.
  auto fresh = fx->mxctl({"plan", fx->manifests(), "--detailed-exitcode", "--state", fx->scratch("fresh.db")});
  INFO(synapse_e2e::shown(fresh));
  CHECK(fresh.exit_code == 0);
}

}  // namespace converge_test
