// Unreachable remote servers (federation.h): an invite to a user on one is
// answered like Synapse after its federation timeout, 502 M_UNKNOWN "Can't
// connect to server <name>", and changes nothing; other servers are fine.

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "mxsim/tests/sim_fixture.h"

namespace federation_test {

using mxsim_test::Reply;
using mxsim_test::Sim;

TEST_CASE("mxsim federation: an invite to an unreachable server is 502 after the timeout", "[mxsim][federation]") {
  Sim sim;
  std::string bot = sim.user("bot", true);
  std::string room_id = sim.create_room(bot);
  CHECK(sim.get("/_mxsim/federation", bot).body == nlohmann::json{{"unreachable", nlohmann::json::array()},
                                                                   {"timeout_ms", 0}});
  Reply set = sim.post("/_mxsim/federation", bot, {{"unreachable", {"other.example"}}, {"timeout_ms", 100}});
  REQUIRE(set.status == 200);
  CHECK(set.body == nlohmann::json{{"unreachable", {"other.example"}}, {"timeout_ms", 100}});
  const std::uint64_t before = sim.hs().journal().last_seq();

  auto started = std::chrono::steady_clock::now();
  Reply invite = sim.member_action(bot, room_id, "invite", "@dana:other.example");
  CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(100));
  CHECK(invite.status == 502);
  CHECK(invite.errcode() == "M_UNKNOWN");
  CHECK(invite.error() == "Can't connect to server other.example");
  // Nothing was written: the invitee has no member event.
  CHECK(sim.get_state(bot, room_id, "m.room.member", "@dana:other.example").status == 404);
  auto entries = sim.hs().journal().entries(before);
  REQUIRE_FALSE(entries.empty());
  CHECK(entries.front().route == "POST /_matrix/client/v3/rooms/{roomId}/invite");
  CHECK(entries.front().status == 502);

  SECTION("other remote servers and local users are invited as before") {
    CHECK(sim.member_action(bot, room_id, "invite", "@erin:up.example").status == 200);
    sim.user("frank");
    CHECK(sim.member_action(bot, room_id, "invite", sim.id("frank")).status == 200);
  }
  SECTION("the local checks come first") {
    std::string outsider = sim.user("outsider");
    CHECK(sim.member_action(outsider, room_id, "invite", "@dana:other.example").status == 403);
    CHECK(sim.member_action("", room_id, "invite", "@dana:other.example").status == 401);
  }
  SECTION("taken off the list, the server is reachable again") {
    REQUIRE(sim.post("/_mxsim/federation", bot, {{"unreachable", nlohmann::json::array()}}).status == 200);
    CHECK(sim.member_action(bot, room_id, "invite", "@dana:other.example").status == 200);
  }
}

TEST_CASE("mxsim federation: the control endpoint checks its input", "[mxsim][federation]") {
  Sim sim;
  std::string bot = sim.user("bot", true);
  CHECK(sim.post("/_mxsim/federation", bot, {{"unreachable", "other.example"}}).status == 400);
  CHECK(sim.post("/_mxsim/federation", bot, {{"timeout_ms", -5}}).status == 400);
  CHECK(sim.post("/_mxsim/federation", sim.user("someone"), {{"timeout_ms", 1}}).status == 403);
  CHECK(sim.hs().federation().settings().unreachable.empty());
}

}  // namespace federation_test
