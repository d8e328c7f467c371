// Membership transitions: invite, join, leave, kick, ban, unban, restricted joins.

#include <catch2/catch.hpp>

#include "mxsim/tests/sim_fixture.h"

namespace membership_test {

using mxsim_test::enc;
using mxsim_test::Reply;
using mxsim_test::Sim;

namespace {

std::string membership(Sim& sim, const std::string& token, const std::string& room_id, const std::string& user_id) {
  Reply reply = sim.get_state(token, room_id, "m.room.member", user_id);
  return reply.status == 200 ? reply.body.value("membership", "") : "";
}

}  // namespace

TEST_CASE("mxsim: inviting", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string alice = sim.user("alice");
  std::string room_id = sim.create_room(bot, {{"preset", "private_chat"}});

  SECTION("an invited user may be invited again") {
    REQUIRE(sim.member_action(bot, room_id, "invite", sim.id("alice")).status == 200);
    CHECK(sim.member_action(bot, room_id, "invite", sim.id("alice")).status == 200);
    CHECK(membership(sim, bot, room_id, sim.id("alice")) == "invite");
  }
  SECTION("inviting a joined user is forbidden") {
    REQUIRE(sim.member_action(bot, room_id, "invite", sim.id("alice")).status == 200);
    REQUIRE(sim.join(alice, room_id).status == 200);
    Reply refused = sim.member_action(bot, room_id, "invite", sim.id("alice"));
    CHECK(refused.status == 403);
    CHECK(refused.errcode() == "M_FORBIDDEN");
    CHECK(refused.error() == "@alice:mxsim.test is already in the room.");
  }
  SECTION("inviting a local user that does not exist succeeds") {
    CHECK(sim.member_action(bot, room_id, "invite", sim.id("ghost")).status == 200);
  }
  SECTION("a non-member cannot invite") {
    Reply refused = sim.member_action(alice, room_id, "invite", sim.id("bot"));
    CHECK(refused.status == 403);
    CHECK(refused.errcode() == "M_FORBIDDEN");
  }
  SECTION("an invite needs the invite level") {
    std::string public_room = sim.create_room(bot, {{"preset", "public_chat"}});
    REQUIRE(sim.join(alice, public_room).status == 200);
    Reply refused = sim.member_action(alice, public_room, "invite", sim.id("ghost"));
    CHECK(refused.status == 403);
    CHECK(refused.error() == "You don't have permission to invite users");
  }
  SECTION("a missing user_id is 400 M_MISSING_PARAM") {
    Reply refused = sim.post(Sim::room_path(room_id, "/invite"), bot, nlohmann::json::object());
    CHECK(refused.status == 400);
    CHECK(refused.errcode() == "M_MISSING_PARAM");
  }
  SECTION("an invite to an unknown room is 404") {
    Reply refused = sim.member_action(bot, "!nope:mxsim.test", "invite", sim.id("alice"));
    CHECK(refused.status == 404);
    CHECK(refused.errcode() == "M_NOT_FOUND");
  }
}

// Observed on Synapse 1.67: the member state PUT goes through the room member
// handler, as /invite does, with the content given.
TEST_CASE("mxsim: an invite through the member state event keeps its content", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string alice = sim.user("alice");
  std::string room_id = sim.create_room(bot, {{"preset", "private_chat"}});
  const nlohmann::json direct = {{"membership", "invite"}, {"is_direct", true}};

  Reply first = sim.put_state(bot, room_id, "m.room.member", sim.id("alice"), direct);
  REQUIRE(first.status == 200);
  Reply member = sim.get_state(bot, room_id, "m.room.member", sim.id("alice"));
  CHECK(member.body["membership"] == "invite");
  CHECK(member.body["is_direct"] == true);
  CHECK(member.body["displayname"] == "alice");  // the profile is added, as for /invite
  SECTION("the same invite again is the first event, not a second") {
    Reply again = sim.put_state(bot, room_id, "m.room.member", sim.id("alice"), direct);
    CHECK(again.status == 200);
    CHECK(again.body["event_id"] == first.body["event_id"]);
  }
  SECTION("a member who joined is refused as /invite refuses them") {
    REQUIRE(sim.join(alice, room_id).status == 200);
    Reply refused = sim.put_state(bot, room_id, "m.room.member", sim.id("alice"), direct);
    CHECK(refused.status == 403);
    CHECK(refused.errcode() == "M_FORBIDDEN");
    CHECK(refused.error() == "@alice:mxsim.test is already in the room.");
  }
  SECTION("a local user that does not exist is invited") {
    CHECK(sim.put_state(bot, room_id, "m.room.member", sim.id("ghost"), direct).status == 200);
  }
  SECTION("it is limited as an invite, not as a message") {
    sim.hs().rate_limiter().configure("message", {0.001, 1});
    sim.hs().rate_limiter().configure("invite", {0.001, 2});
    sim.hs().rate_limiter().set_enabled(true);
    CHECK(sim.put_state(bot, room_id, "m.room.member", sim.id("carol"), direct).status == 200);
    CHECK(sim.put_state(bot, room_id, "m.room.member", sim.id("dave"), direct).status == 200);
    CHECK(sim.put_state(bot, room_id, "m.room.member", sim.id("erin"), direct).status == 429);
  }
}

TEST_CASE("mxsim: joining", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string alice = sim.user("alice");
  std::string room_id = sim.create_room(bot, {{"preset", "private_chat"}, {"room_alias_name", "priv"}});

  SECTION("an invite-only room needs an invite") {
    Reply refused = sim.join(alice, room_id);
    CHECK(refused.status == 403);
    CHECK(refused.error() == "You are not invited to this room.");
    REQUIRE(sim.member_action(bot, room_id, "invite", sim.id("alice")).status == 200);
    Reply joined = sim.join(alice, room_id);
    CHECK(joined.status == 200);
    CHECK(joined.body["room_id"] == room_id);
  }
  SECTION("joining by alias") {
    REQUIRE(sim.member_action(bot, room_id, "invite", sim.id("alice")).status == 200);
    Reply joined = sim.post("/_matrix/client/v3/join/" + enc("#priv:mxsim.test"), alice);
    CHECK(joined.status == 200);
    CHECK(joined.body["room_id"] == room_id);
  }
  SECTION("an unknown alias is 404 M_NOT_FOUND") {
    Reply refused = sim.post("/_matrix/client/v3/join/" + enc("#nope:mxsim.test"), alice);
    CHECK(refused.status == 404);
    CHECK(refused.errcode() == "M_NOT_FOUND");
  }
  SECTION("an unknown room id is 404 M_NOT_FOUND") {
    Reply refused = sim.join(alice, "!nope:mxsim.test");
    CHECK(refused.status == 404);
    CHECK(refused.errcode() == "M_NOT_FOUND");
  }
  SECTION("a room everyone left cannot be joined, invite or not (Synapse has no server to join through)") {
    REQUIRE(sim.member_action(bot, room_id, "invite", sim.id("alice")).status == 200);
    REQUIRE(sim.post(Sim::room_path(room_id, "/leave"), bot).status == 200);
    Reply refused = sim.join(alice, room_id);
    CHECK(refused.status == 404);
    CHECK(refused.errcode() == "M_UNKNOWN");
    CHECK(refused.error() == "Can't join remote room because no servers that are in the room have been provided.");
  }
  SECTION("a public room is open") {
    std::string open_room = sim.create_room(bot, {{"preset", "public_chat"}});
    CHECK(sim.join(alice, open_room).status == 200);
    CHECK(membership(sim, bot, open_room, sim.id("alice")) == "join");
    SECTION("and joining twice is fine") {
      CHECK(sim.join(alice, open_room).status == 200);
    }
  }
}

TEST_CASE("mxsim: leaving and kicking", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string alice = sim.user("alice");
  std::string room_id = sim.create_room(bot, {{"preset", "public_chat"}});
  REQUIRE(sim.join(alice, room_id).status == 200);

  SECTION("leaving twice answers 200 both times") {
    CHECK(sim.post(Sim::room_path(room_id, "/leave"), alice).status == 200);
    CHECK(sim.post(Sim::room_path(room_id, "/leave"), alice).status == 200);
    CHECK(membership(sim, bot, room_id, sim.id("alice")) == "leave");
  }
  SECTION("kicking a member") {
    CHECK(sim.member_action(bot, room_id, "kick", sim.id("alice")).status == 200);
    CHECK(membership(sim, bot, room_id, sim.id("alice")) == "leave");
    SECTION("kicking them again is 403 The target user is not in the room") {
      Reply refused = sim.member_action(bot, room_id, "kick", sim.id("alice"));
      CHECK(refused.status == 403);
      CHECK(refused.errcode() == "M_FORBIDDEN");
      CHECK(refused.error() == "The target user is not in the room");
    }
  }
  SECTION("kicking somebody never in the room is 403") {
    Reply refused = sim.member_action(bot, room_id, "kick", sim.id("stranger"));
    CHECK(refused.status == 403);
    CHECK(refused.error() == "The target user is not in the room");
  }
  SECTION("kicking needs the kick level and a higher level than the target") {
    Reply refused = sim.member_action(alice, room_id, "kick", sim.id("bot"));
    CHECK(refused.status == 403);
    CHECK(refused.error() == "You cannot kick user @bot:mxsim.test.");
  }
  SECTION("a kicked invitee") {
    std::string priv = sim.create_room(bot, {{"preset", "private_chat"}});
    REQUIRE(sim.member_action(bot, priv, "invite", sim.id("alice")).status == 200);
    CHECK(sim.member_action(bot, priv, "kick", sim.id("alice")).status == 200);
    CHECK(sim.join(alice, priv).status == 403);
  }
}

TEST_CASE("mxsim: banning and unbanning", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string alice = sim.user("alice");
  std::string room_id = sim.create_room(bot, {{"preset", "public_chat"}});
  REQUIRE(sim.join(alice, room_id).status == 200);
  REQUIRE(sim.member_action(bot, room_id, "ban", sim.id("alice")).status == 200);
  CHECK(membership(sim, bot, room_id, sim.id("alice")) == "ban");

  SECTION("a banned user cannot join") {
    Reply refused = sim.join(alice, room_id);
    CHECK(refused.status == 403);
    CHECK(refused.errcode() == "M_BAD_STATE");
  }
  SECTION("a banned user cannot be invited") {
    Reply refused = sim.member_action(bot, room_id, "invite", sim.id("alice"));
    CHECK(refused.status == 403);
    CHECK(refused.errcode() == "M_BAD_STATE");
  }
  SECTION("unban makes them leave, then they may join again") {
    REQUIRE(sim.member_action(bot, room_id, "unban", sim.id("alice")).status == 200);
    CHECK(membership(sim, bot, room_id, sim.id("alice")) == "leave");
    CHECK(sim.join(alice, room_id).status == 200);
  }
  SECTION("unbanning somebody not banned is 403 M_BAD_STATE") {
    sim.user("carol");
    std::string carol = sim.hs().issue_token(sim.id("carol"));
    REQUIRE(sim.join(carol, room_id).status == 200);
    Reply refused = sim.member_action(bot, room_id, "unban", sim.id("carol"));
    CHECK(refused.status == 403);
    CHECK(refused.errcode() == "M_BAD_STATE");
  }
  SECTION("banning needs the ban level") {
    std::string carol = sim.user("carol");
    REQUIRE(sim.join(carol, room_id).status == 200);
    Reply refused = sim.member_action(carol, room_id, "ban", sim.id("bot"));
    CHECK(refused.status == 403);
    CHECK(refused.error() == "You don't have permission to ban");
  }
}

TEST_CASE("mxsim: restricted rooms admit members of the allowed space", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string alice = sim.user("alice");
  std::string space = sim.create_room(bot, {{"preset", "public_chat"}, {"creation_content", {{"type", "m.space"}}}});
  std::string room_id = sim.create_room(
      bot, {{"preset", "private_chat"},
            {"initial_state",
             {{{"type", "m.room.join_rules"},
               {"state_key", ""},
               {"content", {{"join_rule", "restricted"}, {"allow", {{{"type", "m.room_membership"}, {"room_id", space}}}}}}}}}});
  REQUIRE(!room_id.empty());

  SECTION("outside the space the join is refused") {
    Reply refused = sim.join(alice, room_id);
    CHECK(refused.status == 403);
    CHECK(refused.errcode() == "M_FORBIDDEN");
    CHECK(refused.error() == "You do not belong to any of the required rooms/spaces to join this room.");
  }
  SECTION("an invite lets them in regardless") {
    REQUIRE(sim.member_action(bot, room_id, "invite", sim.id("alice")).status == 200);
    CHECK(sim.join(alice, room_id).status == 200);
  }
  SECTION("after joining the space they can join, vouched for by a local user") {
    REQUIRE(sim.join(alice, space).status == 200);
    REQUIRE(sim.join(alice, room_id).status == 200);
    Reply member = sim.get_state(bot, room_id, "m.room.member", sim.id("alice"));
    CHECK(member.body["membership"] == "join");
    CHECK(member.body["join_authorised_via_users_server"] == "@bot:mxsim.test");
    SECTION("and a kick alone does not keep them out") {
      REQUIRE(sim.member_action(bot, room_id, "kick", sim.id("alice")).status == 200);
      CHECK(sim.join(alice, room_id).status == 200);
    }
  }
}

TEST_CASE("mxsim: member lists", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string alice = sim.user("alice");
  std::string outsider = sim.user("outsider");
  std::string room_id = sim.create_room(bot, {{"preset", "public_chat"}, {"invite", {sim.id("carol")}}});
  REQUIRE(sim.join(alice, room_id).status == 200);

  Reply joined = sim.get(Sim::room_path(room_id, "/joined_members"), bot);
  REQUIRE(joined.status == 200);
  CHECK(joined.body["joined"].size() == 2);
  CHECK(joined.body["joined"]["@alice:mxsim.test"]["display_name"] == "alice");

  Reply members = sim.get(Sim::room_path(room_id, "/members"), bot);
  CHECK(members.body["chunk"].size() == 3);
  Reply invited = sim.get(Sim::room_path(room_id, "/members?membership=invite"), bot);
  CHECK(invited.body["chunk"].size() == 1);

  Reply refused = sim.get(Sim::room_path(room_id, "/joined_members"), outsider);
  CHECK(refused.status == 403);
  CHECK(sim.get(Sim::room_path(room_id, "/members"), outsider).status == 403);

  Reply rooms = sim.get("/_matrix/client/v3/joined_rooms", alice);
  CHECK(rooms.body["joined_rooms"] == nlohmann::json::array({room_id}));
}

TEST_CASE("mxsim: a departed member still reads the state as they left it", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string alice = sim.user("alice");
  std::string room_id = sim.create_room(bot, {{"preset", "public_chat"}, {"name", "Before"}});
  REQUIRE(sim.join(alice, room_id).status == 200);
  REQUIRE(sim.post(Sim::room_path(room_id, "/leave"), alice).status == 200);
  REQUIRE(sim.put_state(bot, room_id, "m.room.name", "", {{"name", "After"}}).status == 200);
  CHECK(sim.get_state(alice, room_id, "m.room.name").body["name"] == "Before");
}

}  // namespace membership_test
