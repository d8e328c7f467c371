// Room upgrades on a real Synapse: a council space a person upgrades from
// their client is joined once mxctl is invited and taken over; rooms older
// than roomVersion are upgraded with --upgrade-rooms; links, members and the
// DMs' m.direct follow the new rooms, and the old ones keep their tombstones.

#include <catch2/catch.hpp>

#include <algorithm>

#include "tests/synapse/fixture.h"

namespace upgrade_test {

using synapse_e2e::Fixture;
using testing_support::url_encode;

namespace {

std::string room_path(const std::string& room_id, const std::string& rest) {
  return "/_matrix/client/v3/rooms/" + url_encode(room_id) + rest;
}

// What `user_id`'s m.direct lists for `other` (admin API).
nlohmann::json direct_rooms(const Fixture& fx, const std::string& user_id, const std::string& other) {
  auto data = fx.server().admin("GET", "/_synapse/admin/v1/users/" + url_encode(user_id) + "/accountdata");
  INFO(data.describe());
  REQUIRE(data.ok());
  return data.body["account_data"]["global"].value("m.direct", nlohmann::json::object()).value(other, nlohmann::json());
}

}  // namespace

TEST_CASE("synapse: upgraded rooms are followed, and --upgrade-rooms upgrades the rest", "[synapse][upgrade]") {
  auto fx = Fixture::create();
  if (!fx) {
    return;
  }
  fx->set_config("roomVersion: \"9\"\n");
  fx->apply();
  const std::string old_space = fx->room_id("council/disputes");
  const std::string old_dm = fx->room_id("dm/request-8841");

  // A server admin upgrades the council space from her client.
  const std::string ursula = fx->server().make_server_admin("ursula" + fx->server().run_suffix(), "correct horse");
  const std::string token = fx->server().login_as(ursula);
  auto levels = fx->server().room_state(old_space).at("m.room.power_levels|");
  levels["users"][ursula] = 100;
  REQUIRE(fx->server().call("PUT", room_path(old_space, "/state/m.room.power_levels/"), fx->bot_token(), levels).ok());
  REQUIRE(fx->server().call("POST", room_path(old_space, "/invite"), fx->bot_token(), {{"user_id", ursula}}).ok());
  REQUIRE(fx->server().call("POST", room_path(old_space, "/join"), token, nlohmann::json::object()).ok());
  auto upgraded = fx->server().call("POST", room_path(old_space, "/upgrade"), token, {{"new_version", "10"}});
  INFO(upgraded.describe());
  REQUIRE(upgraded.ok());
  const std::string new_space = upgraded.body["replacement_room"];
  REQUIRE(fx->server().call("POST", room_path(new_space, "/invite"), token, {{"user_id", fx->bot()}}).ok());
  const auto old_space_state = fx->server().room_state(old_space);

  // The other rooms are older than the configured version now: a warning.
  fx->set_config("roomVersion: \"10\"\n");
  auto plan = fx->plan();
  INFO(synapse_e2e::shown(plan));
  CHECK(plan.exit_code == 2);
  CHECK(plan.out.find(new_space) != std::string::npos);
  CHECK(synapse_e2e::shown(plan).find("--upgrade-rooms") != std::string::npos);

  fx->apply();  // joins the new space
  // She leaves once mxctl is in: before, the room would have no one to join through.
  REQUIRE(fx->server().call("POST", room_path(new_space, "/leave"), token, nlohmann::json::object()).ok());
  fx->apply({"--upgrade-rooms"});  // takes it over, upgrades the rest
  fx->apply({"--upgrade-rooms"});  // links and members of the new rooms
  auto converged = fx->plan({"--upgrade-rooms"});
  INFO(synapse_e2e::shown(converged));
  CHECK(converged.exit_code == 0);

  CHECK(fx->room_id("council/disputes") == new_space);
  auto space = fx->room_state("council/disputes");
  CHECK(space.at(std::string(synapse_e2e::k_marker_type) + "|").at("key") == "council/disputes");
  const std::string discussion = fx->room_id("council/disputes/discussion");
  auto discussion_state = fx->room_state("council/disputes/discussion");
  CHECK(discussion_state.at("m.room.create|").at("room_version") == "10");
  CHECK(discussion_state.at(std::string(synapse_e2e::k_marker_type) + "|").at("key") ==
        "council/disputes/discussion");
  CHECK(discussion_state.count("m.space.parent|" + new_space) == 1);
  CHECK(space.at("m.space.child|" + discussion).contains("via"));
  CHECK(space.at("m.room.member|" + fx->user_id("erin")).at("membership") == "invite");
  // The old rooms keep their tombstones and nothing else changed in them.
  CHECK(fx->server().room_state(old_space) == old_space_state);
  const std::string dm = fx->room_id("dm/request-8841");
  CHECK(fx->server().room_state(old_dm).at("m.room.tombstone|").at("replacement_room") == dm);
  // The DM's new room is in both people's m.direct.
  for (const auto& [user, other] : {std::pair{"bob", "carol"}, std::pair{"carol", "bob"}}) {
    nlohmann::json rooms = direct_rooms(*fx, fx->user_id(user), fx->user_id(other));
    INFO(user << ": " << rooms.dump());
    REQUIRE(rooms.is_array());
    CHECK(std::find(rooms.begin(), rooms.end(), dm) != rooms.end());
  }
}

}  // namespace upgrade_test
