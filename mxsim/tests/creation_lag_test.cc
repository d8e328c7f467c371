// The creation-lag fault mode: createRoom registers the alias at once and
// persists the room's events over a while, as Synapse does, so that others
// can find the room by its alias before its initial_state can be read.

#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <thread>

#include "mxsim/tests/sim_fixture.h"

namespace creation_lag_test {

using mxsim_test::enc;
using mxsim_test::Reply;
using mxsim_test::Sim;

namespace {

using Clock = std::chrono::steady_clock;

const nlohmann::json k_marked_room = {
    {"room_alias_name", "lagged"},
    {"name", "Lagged"},
    {"initial_state", {{{"type", "org.example.marker"}, {"state_key", ""}, {"content", {{"key", "lagged"}}}}}}};

}  // namespace

TEST_CASE("mxsim: with a creation lag the alias resolves before the room's initial_state can be read",
          "[mxsim][faults]") {
  Sim sim;
  std::string bot = sim.user("bot");
  const std::string alias_path = "/_matrix/client/v3/directory/room/" + enc("#lagged:mxsim.test");
  sim.hs().set_creation_lag(std::chrono::milliseconds(1000));
  CHECK(sim.hs().creation_lag() == std::chrono::milliseconds(1000));

  const auto started = Clock::now();
  // Its own connection: the fixture's client is not shared between threads.
  std::future<int> created = std::async(std::launch::async, [&] {
    httplib::Client client("127.0.0.1", sim.server().port());
    auto answer = client.Post("/_matrix/client/v3/createRoom", {{"Authorization", "Bearer " + bot}},
                              k_marked_room.dump(), "application/json");
    return answer ? answer->status : 0;
  });
  Reply resolved;
  while (Clock::now() - started < std::chrono::seconds(10)) {
    resolved = sim.get(alias_path, bot);
    if (resolved.status == 200) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE(resolved.status == 200);
  const std::string room_id = resolved.body["room_id"];
  // Seen within the lag: the marker is not there yet, and createRoom has not answered.
  Reply marker = sim.get_state(bot, room_id, "org.example.marker");
  const bool within_lag = Clock::now() - started < std::chrono::milliseconds(900);
  if (within_lag) {
    CHECK(marker.status != 200);
    CHECK(created.wait_for(std::chrono::seconds(0)) == std::future_status::timeout);
  }

  REQUIRE(created.get() == 200);
  CHECK(Clock::now() - started >= std::chrono::milliseconds(1000));
  Reply after = sim.get_state(bot, room_id, "org.example.marker");
  CHECK(after.status == 200);
  CHECK(after.body["key"] == "lagged");
  Reply state = sim.get(Sim::room_path(room_id, "/state"), bot);
  REQUIRE(state.status == 200);
  CHECK(state.body.size() >= 6);
}

TEST_CASE("mxsim: without a creation lag the room is complete when its alias resolves", "[mxsim][faults]") {
  Sim sim;
  std::string bot = sim.user("bot");
  CHECK(sim.hs().creation_lag() == std::chrono::milliseconds(0));
  Reply created = sim.post("/_matrix/client/v3/createRoom", bot, k_marked_room);
  REQUIRE(created.status == 200);
  Reply resolved = sim.get("/_matrix/client/v3/directory/room/" + enc("#lagged:mxsim.test"), bot);
  REQUIRE(resolved.status == 200);
  CHECK(sim.get_state(bot, resolved.body["room_id"], "org.example.marker").status == 200);
}

}  // namespace creation_lag_test
