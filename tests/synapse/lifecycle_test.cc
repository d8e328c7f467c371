// A council's lifecycle on a real Synapse, with mxctl's clock set by --now:
// taken out of the manifests it is archived; put back within the grace
// period it is restored exactly as it was; archived again and applied 61
// days later, its rooms are deleted (the admin API and the directory no
// longer know them).

#include <catch2/catch.hpp>

#include "tests/synapse/fixture.h"
#include "tests/synapse/scenarios.h"
#include "tests/synapse/truth.h"

namespace lifecycle_test {

using synapse_e2e::Fixture;
using synapse_e2e::k_stewards;

namespace {

// The harbor space holds the council's link: its restore is checked too.
const std::vector<std::string> k_compared = {"community/harbor", "council/stewards", "council/stewards/discussion"};

std::map<std::string, synapse_e2e::RoomState> restorable_states(const Fixture& fx) {
  std::map<std::string, synapse_e2e::RoomState> out;
  for (const std::string& key : k_compared) {
    out[key] = synapse_e2e::restorable(fx.room_state(key));
  }
  return out;
}

void apply_at(const Fixture& fx, const std::string& now) { fx.apply({"--now", now}); }

void expect_converged_at(const Fixture& fx, const std::string& now) {
  auto plan = fx.plan({"--now", now});
  INFO(synapse_e2e::shown(plan));
  CHECK(plan.exit_code == 0);
}

}  // namespace

TEST_CASE("synapse: a council is archived, restored exactly, archived again and deleted on day 61",
          "[synapse][lifecycle]") {
  auto fx = Fixture::create();
  if (!fx) {
    return;
  }
  apply_at(*fx, "2026-01-01");
  const auto before = restorable_states(*fx);
  std::map<std::string, std::string> ids;
  for (const std::string& key : k_stewards) {
    ids[key] = fx->room_id(key);
  }

  fx->drop_document("councils.yaml", "stewards");
  auto plan = fx->mxctl({"plan", fx->manifests(), "--now", "2026-01-01"});
  INFO(synapse_e2e::shown(plan));
  CHECK(synapse_e2e::count_of(plan.out, "will be archived") == 2);
  apply_at(*fx, "2026-01-01");
  synapse_e2e::check_archived(*fx, k_stewards, "2026-01-01", "2026-03-02");
  // Space links stay, so that a restore is exact.
  CHECK_FALSE(synapse_e2e::state_content(fx->room_state("community/harbor"), "m.space.child", ids["council/stewards"])
                  .empty());
  expect_converged_at(*fx, "2026-01-01");

  fx->reset_manifests();
  auto restore = fx->mxctl({"plan", fx->manifests(), "--now", "2026-01-20"});
  INFO(synapse_e2e::shown(restore));
  CHECK(synapse_e2e::count_of(restore.out, "will be restored") == 2);
  apply_at(*fx, "2026-01-20");
  const auto after = restorable_states(*fx);
  for (const std::string& key : k_compared) {
    INFO(key);
    CHECK(after.at(key) == before.at(key));
  }
  auto problems = synapse_e2e::convergence_problems(*fx, fx->example());
  INFO(synapse_e2e::lines(problems));
  CHECK(problems.empty());
  expect_converged_at(*fx, "2026-01-20");

  fx->drop_document("councils.yaml", "stewards");
  apply_at(*fx, "2026-02-01");
  synapse_e2e::check_archived(*fx, k_stewards, "2026-02-01", "2026-04-02");
  auto deleted = fx->apply({"--now", "2026-04-03"});
  CHECK(deleted.out.find("0 added, 0 changed, 2 destroyed") != std::string::npos);
  for (const std::string& key : k_stewards) {
    INFO(key << " " << ids[key]);
    auto details = fx->server().room_details(ids[key]);
    CHECK(details.status == 404);
    CHECK_FALSE(fx->server().room_of_alias(fx->alias(key)));
  }
  expect_converged_at(*fx, "2026-04-03");
}

}  // namespace lifecycle_test
