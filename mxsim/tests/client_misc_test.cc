// The smaller client and admin endpoints: login flows, logout/all, avatar
// reads, room directory visibility, knocking, forgetting, capabilities,
// username availability and a user's joined rooms.

#include <catch2/catch.hpp>

#include "mxsim/tests/sim_fixture.h"

namespace client_misc_test {

using mxsim_test::enc;
using mxsim_test::Reply;
using mxsim_test::Sim;

TEST_CASE("mxsim: login flows list password and appservice logins", "[mxsim]") {
  Sim sim;
  Reply flows = sim.get("/_matrix/client/v3/login");
  REQUIRE(flows.status == 200);
  CHECK(flows.body["flows"][0]["type"] == "m.login.password");
  CHECK(flows.body["flows"][1]["type"] == "m.login.application_service");
  Reply unknown = sim.post("/_matrix/client/v3/login", "", {{"type", "m.login.bogus"}});
  CHECK(unknown.status == 400);
}

TEST_CASE("mxsim: logout/all ends every session of the user", "[mxsim]") {
  Sim sim;
  std::string first = sim.user("alice");
  std::string second = sim.hs().issue_token("@alice:mxsim.test");
  std::string other = sim.user("bob");
  REQUIRE(sim.post("/_matrix/client/v3/logout/all", first).status == 200);
  CHECK(sim.get("/_matrix/client/v3/account/whoami", first).errcode() == "M_UNKNOWN_TOKEN");
  CHECK(sim.get("/_matrix/client/v3/account/whoami", second).errcode() == "M_UNKNOWN_TOKEN");
  CHECK(sim.get("/_matrix/client/v3/account/whoami", other).status == 200);
}

TEST_CASE("mxsim: avatar_url reads back and unset fields are left out", "[mxsim]") {
  Sim sim;
  std::string alice = sim.user("alice");
  const std::string path = "/_matrix/client/v3/profile/" + enc("@alice:mxsim.test") + "/avatar_url";
  CHECK(sim.get(path).body == nlohmann::json::object());
  REQUIRE(sim.put(path, alice, {{"avatar_url", "mxc://mxsim.test/x"}}).status == 200);
  CHECK(sim.get(path).body == nlohmann::json({{"avatar_url", "mxc://mxsim.test/x"}}));
  Reply missing = sim.put(path, alice, nlohmann::json::object());
  CHECK(missing.status == 400);
  CHECK(missing.errcode() == "M_MISSING_PARAM");
}

TEST_CASE("mxsim: room directory visibility", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string alice = sim.user("alice");
  std::string room_id = sim.create_room(bot, {{"visibility", "public"}});
  const std::string path = "/_matrix/client/v3/directory/list/room/" + enc(room_id);
  CHECK(sim.get(path).body["visibility"] == "public");
  CHECK(sim.put(path, alice, {{"visibility", "private"}}).status == 403);
  REQUIRE(sim.put(path, bot, {{"visibility", "private"}}).status == 200);
  CHECK(sim.get(path).body["visibility"] == "private");
  CHECK(sim.get("/_matrix/client/v3/directory/list/room/" + enc("!nope:mxsim.test")).status == 404);
}

TEST_CASE("mxsim: knocking needs a knock join rule", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string alice = sim.user("alice");
  std::string invite_only = sim.create_room(bot, {{"preset", "private_chat"}});
  Reply refused = sim.post("/_matrix/client/v3/knock/" + enc(invite_only), alice);
  CHECK(refused.status == 403);
  CHECK(refused.error() == "You don't have permission to knock");
  std::string knockable = sim.create_room(
      bot, {{"initial_state", {{{"type", "m.room.join_rules"}, {"content", {{"join_rule", "knock"}}}}}}});
  REQUIRE(sim.post("/_matrix/client/v3/knock/" + enc(knockable), alice).status == 200);
  CHECK(sim.get_state(bot, knockable, "m.room.member", "@alice:mxsim.test").body["membership"] == "knock");
  REQUIRE(sim.member_action(bot, knockable, "invite", "@alice:mxsim.test").status == 200);
  CHECK(sim.join(alice, knockable).status == 200);
}

TEST_CASE("mxsim: forgetting a room needs having left it", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string room_id = sim.create_room(bot);
  CHECK(sim.post(Sim::room_path(room_id, "/forget"), bot).status == 400);
  REQUIRE(sim.post(Sim::room_path(room_id, "/leave"), bot).status == 200);
  CHECK(sim.post(Sim::room_path(room_id, "/forget"), bot).status == 200);
}

TEST_CASE("mxsim: capabilities report the room versions", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  Reply reply = sim.get("/_matrix/client/v3/capabilities", bot);
  REQUIRE(reply.status == 200);
  CHECK(reply.body["capabilities"]["m.room_versions"]["default"] == "10");
  CHECK(reply.body["capabilities"]["m.room_versions"]["available"]["11"] == "stable");
}

TEST_CASE("mxsim: username availability", "[mxsim]") {
  Sim sim;
  std::string admin = sim.user("admin", true);
  CHECK(sim.get("/_matrix/client/v3/register/available?username=free").body["available"] == true);
  Reply taken = sim.get("/_matrix/client/v3/register/available?username=admin");
  CHECK(taken.status == 400);
  CHECK(taken.errcode() == "M_USER_IN_USE");
  Reply invalid = sim.get("/_synapse/admin/v1/username_available?username=Bad%20Name", admin);
  CHECK(invalid.status == 400);
  CHECK(invalid.errcode() == "M_INVALID_USERNAME");
  CHECK(sim.get("/_synapse/admin/v1/username_available?username=free", admin).body["available"] == true);
}

TEST_CASE("mxsim: admin lists a user's joined rooms", "[mxsim]") {
  Sim sim;
  std::string admin = sim.user("admin", true);
  std::string bot = sim.user("bot");
  std::string room_id = sim.create_room(bot);
  Reply rooms = sim.get("/_synapse/admin/v1/users/" + enc("@bot:mxsim.test") + "/joined_rooms", admin);
  CHECK(rooms.body == nlohmann::json({{"joined_rooms", {room_id}}, {"total", 1}}));
}

}  // namespace client_misc_test
