// `mxctl run` against a real Synapse: drift made by hand is repaired as it
// happens, with no pass in between, and a repair's own write coming back
// through Synapse's /sync wakes no second pass (Synapse answers writes with
// the event ids the change feed then sees).

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <functional>
#include <thread>

#include "tests/support/child_process.h"
#include "tests/support/eventually.h"
#include "tests/synapse/fixture.h"
#include "tests/synapse/scenarios.h"

namespace run_test {

using synapse_e2e::Fixture;
using namespace std::chrono_literals;

using testing_support::eventually;

namespace {

std::string room_name(const Fixture& fx, const std::string& room_id) {
  return synapse_e2e::state_content(fx.server().room_state(room_id), "m.room.name").value("name", "");
}

}  // namespace

TEST_CASE("synapse: mxctl run repairs drift as it happens, one pass for each", "[synapse][run]") {
  auto fx = Fixture::create();
  if (!fx) {
    return;
  }
  fx->apply();
  testing_support::ChildProcess run(fx->argv({"run", fx->manifests(), "--listen", "127.0.0.1:0"}), fx->env(),
                                    fx->scratch("run.out"), fx->scratch("run.err"));
  auto passes_done = [&] { return synapse_e2e::count_of(run.err(), "info pass done"); };
  REQUIRE(eventually([&] { return passes_done() >= 1; }, 120s));
  INFO(run.err());
  REQUIRE(run.err().find("pass done (start): no changes") != std::string::npos);

  SECTION("the drift of the apply suite: a power level, a kick, a name and a space link") {
    const auto drift = synapse_e2e::make_drift(*fx);
    const std::string want = fx->example().at("rooms").at("community/riverside/general").at("name");
    REQUIRE(eventually(
        [&] {
          const auto council = fx->server().room_state(drift.council);
          return room_name(*fx, drift.general) == want &&
                 synapse_e2e::memberships(council)[drift.frank] == "invite";
        },
        60s));
    REQUIRE(eventually([&] { return fx->plan().exit_code == 0; }, 60s));
    synapse_e2e::check_drift_repaired(*fx, drift);
  }
  SECTION("renames repaired one after another take one pass each") {
    const std::string general = fx->room_id("community/riverside/general");
    const std::string want = fx->example().at("rooms").at("community/riverside/general").at("name");
    for (int round = 1; round <= 3; ++round) {
      INFO("round " << round);
      const std::size_t before = passes_done();
      synapse_e2e::put_state(*fx, fx->bot_token(), general, "m.room.name", "", {{"name", "Renamed by hand"}});
      REQUIRE(eventually([&] { return room_name(*fx, general) == want && passes_done() > before; }, 60s));
    }
    // A manifest edit is read after a quiet 300 ms, so by the time its pass
    // is done a pass woken by a repair's own write would have run too.
    fx->edit("communities.yaml", "topic: Sharing tools, food and time along the river",
             "topic: Sharing tools, food and time along the river and beyond");
    REQUIRE(eventually([&] { return synapse_e2e::count_of(run.err(), "pass done (desired_changed)") == 1; }, 60s));
    CHECK(synapse_e2e::count_of(run.err(), "pass done (homeserver_changed)") == 3);
  }
  run.signal(SIGTERM);
  auto code = run.wait_for(60s);
  REQUIRE(code);
  CHECK(*code == 0);
}

}  // namespace run_test
