// Room alias directory, profiles, account data and filters.

#include <catch2/catch.hpp>

#include "mxsim/tests/sim_fixture.h"

namespace directory_profile_test {

using mxsim_test::enc;
using mxsim_test::Reply;
using mxsim_test::Sim;

TEST_CASE("mxsim: the alias directory", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string alice = sim.user("alice");
  std::string room_id = sim.create_room(bot);
  const std::string path = "/_matrix/client/v3/directory/room/" + enc("#ops:mxsim.test");

  SECTION("an unknown alias is 404 M_NOT_FOUND") {
    Reply missing = sim.get(path);
    CHECK(missing.status == 404);
    CHECK(missing.errcode() == "M_NOT_FOUND");
  }
  SECTION("put, get, conflict, delete") {
    REQUIRE(sim.put(path, bot, {{"room_id", room_id}}).status == 200);
    CHECK(sim.get(path).body["room_id"] == room_id);
    Reply conflict = sim.put(path, bot, {{"room_id", room_id}});
    CHECK(conflict.status == 409);
    CHECK(conflict.errcode() == "M_UNKNOWN");
    Reply not_yours = sim.del(path, alice);
    CHECK(not_yours.status == 403);
    CHECK(not_yours.errcode() == "M_FORBIDDEN");
    CHECK(sim.del(path, bot).status == 200);
    CHECK(sim.get(path).status == 404);
    Reply gone = sim.del(path, bot);
    CHECK(gone.status == 404);
    CHECK(gone.errcode() == "M_NOT_FOUND");
  }
  SECTION("only members may point an alias at a room") {
    Reply refused = sim.put(path, alice, {{"room_id", room_id}});
    CHECK(refused.status == 403);
    CHECK(refused.error() == "You must be in the room to create an alias for it");
  }
  SECTION("aliases must be local") {
    Reply refused = sim.put("/_matrix/client/v3/directory/room/" + enc("#ops:elsewhere.test"), bot, {{"room_id", room_id}});
    CHECK(refused.status == 400);
  }
  SECTION("deleting the canonical alias clears it from the room") {
    std::string named = sim.create_room(bot, {{"room_alias_name", "named"}});
    REQUIRE(sim.del("/_matrix/client/v3/directory/room/" + enc("#named:mxsim.test"), bot).status == 200);
    CHECK(!sim.get_state(bot, named, "m.room.canonical_alias").body.contains("alias"));
  }
}

TEST_CASE("mxsim: profiles", "[mxsim]") {
  Sim sim;
  std::string alice = sim.user("alice");
  std::string bob = sim.user("bob");
  const std::string path = "/_matrix/client/v3/profile/" + enc("@alice:mxsim.test");

  SECTION("a new account's display name is its localpart") {
    CHECK(sim.get(path).body == nlohmann::json({{"displayname", "alice"}}));
  }
  SECTION("set and read back display name and avatar") {
    REQUIRE(sim.put(path + "/displayname", alice, {{"displayname", "Alice A."}}).status == 200);
    REQUIRE(sim.put(path + "/avatar_url", alice, {{"avatar_url", "mxc://mxsim.test/a"}}).status == 200);
    CHECK(sim.get(path + "/displayname").body["displayname"] == "Alice A.");
    CHECK(sim.get(path).body == nlohmann::json({{"displayname", "Alice A."}, {"avatar_url", "mxc://mxsim.test/a"}}));
  }
  SECTION("the new name reaches the member events of joined rooms") {
    std::string room_id = sim.create_room(alice);
    REQUIRE(sim.put(path + "/displayname", alice, {{"displayname", "Alice A."}}).status == 200);
    CHECK(sim.get_state(alice, room_id, "m.room.member", "@alice:mxsim.test").body["displayname"] == "Alice A.");
  }
  SECTION("nobody sets another user's name") {
    Reply refused = sim.put(path + "/displayname", bob, {{"displayname", "x"}});
    CHECK(refused.status == 400);
  }
  SECTION("an unknown user's profile is 404") {
    Reply missing = sim.get("/_matrix/client/v3/profile/" + enc("@nobody:mxsim.test"));
    CHECK(missing.status == 404);
    CHECK(missing.errcode() == "M_NOT_FOUND");
  }
}

TEST_CASE("mxsim: account data, e.g. m.direct", "[mxsim]") {
  Sim sim;
  std::string alice = sim.user("alice");
  std::string bob = sim.user("bob");
  const std::string path = "/_matrix/client/v3/user/" + enc("@alice:mxsim.test") + "/account_data/m.direct";
  Reply missing = sim.get(path, alice);
  CHECK(missing.status == 404);
  CHECK(missing.errcode() == "M_NOT_FOUND");
  nlohmann::json direct = {{"@bob:mxsim.test", {"!dm:mxsim.test"}}};
  REQUIRE(sim.put(path, alice, direct).status == 200);
  CHECK(sim.get(path, alice).body == direct);
  CHECK(sim.get(path, bob).status == 403);
  Reply refused = sim.put(path, bob, direct);
  CHECK(refused.status == 403);
  CHECK(refused.errcode() == "M_FORBIDDEN");
}

TEST_CASE("mxsim: stored filters can be used by id", "[mxsim]") {
  Sim sim;
  std::string alice = sim.user("alice");
  sim.create_room(alice, {{"name", "x"}});
  const std::string path = "/_matrix/client/v3/user/" + enc("@alice:mxsim.test") + "/filter";
  Reply created = sim.post(path, alice, {{"room", {{"timeline", {{"limit", 0}}}}}});
  REQUIRE(created.status == 200);
  std::string filter_id = created.body["filter_id"];
  CHECK(sim.get(path + "/" + filter_id, alice).body["room"]["timeline"]["limit"] == 0);
  Reply sync = sim.get("/_matrix/client/v3/sync?filter=" + filter_id, alice);
  REQUIRE(sync.status == 200);
  for (const auto& [room_id, room] : sync.body["rooms"]["join"].items()) {
    CHECK(room["timeline"]["events"].empty());
  }
}

}  // namespace directory_profile_test
