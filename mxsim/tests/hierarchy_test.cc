// GET /_matrix/client/v1/rooms/{roomId}/hierarchy.

#include <catch2/catch.hpp>

#include "mxsim/tests/sim_fixture.h"

namespace hierarchy_test {

using mxsim_test::enc;
using mxsim_test::Reply;
using mxsim_test::Sim;

namespace {

Reply hierarchy(Sim& sim, const std::string& token, const std::string& room_id, const std::string& query = "") {
  return sim.get("/_matrix/client/v1/rooms/" + enc(room_id) + "/hierarchy" + query, token);
}

}  // namespace

TEST_CASE("mxsim: the space hierarchy walks m.space.child links", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string alice = sim.user("alice");
  std::string space = sim.create_room(
      bot, {{"name", "Riverside"}, {"preset", "public_chat"}, {"creation_content", {{"type", "m.space"}}}});
  std::string general = sim.create_room(bot, {{"name", "General"}, {"preset", "public_chat"}});
  std::string council = sim.create_room(bot, {{"name", "Council"}, {"preset", "private_chat"}});
  REQUIRE(sim.put_state(bot, space, "m.space.child", general, {{"via", {"mxsim.test"}}, {"suggested", true}}).status == 200);
  REQUIRE(sim.put_state(bot, space, "m.space.child", council, {{"via", {"mxsim.test"}}}).status == 200);
  REQUIRE(sim.put_state(bot, space, "m.space.child", "!gone:mxsim.test", nlohmann::json::object()).status == 200);

  SECTION("a member of everything sees everything") {
    Reply reply = hierarchy(sim, bot, space);
    REQUIRE(reply.status == 200);
    REQUIRE(reply.body["rooms"].size() == 3);
    const auto& root = reply.body["rooms"][0];
    CHECK(root["room_id"] == space);
    CHECK(root["room_type"] == "m.space");
    CHECK(root["name"] == "Riverside");
    CHECK(root["children_state"].size() == 2);
    CHECK(root["children_state"][0].contains("origin_server_ts"));
  }
  SECTION("invite-only children stay hidden from outsiders") {
    REQUIRE(sim.join(alice, space).status == 200);
    Reply reply = hierarchy(sim, alice, space);
    REQUIRE(reply.status == 200);
    CHECK(reply.body["rooms"].size() == 2);
  }
  SECTION("suggested_only, limit and max_depth") {
    CHECK(hierarchy(sim, bot, space, "?suggested_only=true").body["rooms"].size() == 2);
    Reply page = hierarchy(sim, bot, space, "?limit=1");
    CHECK(page.body["rooms"].size() == 1);
    REQUIRE(page.body["next_batch"].is_string());
    CHECK(hierarchy(sim, bot, space, "?limit=5&from=" + page.body["next_batch"].get<std::string>()).body["rooms"].size() == 2);
    CHECK(hierarchy(sim, bot, space, "?max_depth=0").body["rooms"].size() == 1);
  }
  SECTION("an inaccessible root is 403") {
    Reply refused = hierarchy(sim, alice, council);
    CHECK(refused.status == 403);
    CHECK(refused.errcode() == "M_FORBIDDEN");
  }
}

}  // namespace hierarchy_test
