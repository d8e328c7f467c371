// POST /rooms/{roomId}/upgrade as Synapse 1.67 answers it: the cloned room,
// the tombstone, moved aliases, restricted power levels, errors and /sync.

#include <catch2/catch.hpp>

#include "mxsim/tests/sim_fixture.h"

namespace room_upgrade_test {

using mxsim_test::enc;
using mxsim_test::Reply;
using mxsim_test::Sim;
using nlohmann::json;

namespace {

Reply upgrade(Sim& sim, const std::string& token, const std::string& room_id, const json& version) {
  return sim.post(Sim::room_path(room_id, "/upgrade"), token, {{"new_version", version}});
}

std::string upgraded(Sim& sim, const std::string& token, const std::string& room_id, const std::string& version) {
  Reply reply = upgrade(sim, token, room_id, version);
  INFO(reply.body.dump());
  REQUIRE(reply.status == 200);
  return reply.body.value("replacement_room", "");
}

// Every event of the room in order, as `token` may page through it.
std::vector<json> events(Sim& sim, const std::string& token, const std::string& room_id) {
  Reply reply = sim.get(Sim::room_path(room_id, "/messages?dir=f&limit=1000"), token);
  REQUIRE(reply.status == 200);
  return reply.body["chunk"].get<std::vector<json>>();
}

std::vector<std::string> keys_of(const std::vector<json>& list) {
  std::vector<std::string> keys;
  for (const auto& event : list) {
    keys.push_back(event.value("type", "") + "/" + event.value("state_key", "-"));
  }
  return keys;
}

json power_levels_with(const std::string& bot, const json& extra) {
  json levels = {{"users", {{bot, 100}}}};
  levels.update(extra);
  return levels;
}

json state_event(const std::string& type, const std::string& key, const json& content) {
  return {{"type", type}, {"state_key", key}, {"content", content}};
}

}  // namespace

TEST_CASE("mxsim upgrade: the new room copies Synapse's state list, links back, and holds only the upgrader",
          "[mxsim][upgrade]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string alice = sim.user("alice");
  sim.user("carol");
  json acl = {{"allow", {"*"}}, {"deny", {"evil.example"}}, {"allow_ip_literals", false}};
  std::string old_id = sim.create_room(
      bot, {{"name", "Ops"},
            {"topic", "Ops chat"},
            {"preset", "public_chat"},
            {"initial_state",
             {state_event("m.room.avatar", "", {{"url", "mxc://mxsim.test/avatar"}}),
              state_event("m.room.encryption", "", {{"algorithm", "m.megolm.v1.aes-sha2"}}),
              state_event("m.room.server_acl", "", acl),
              state_event("m.room.guest_access", "", {{"guest_access", "forbidden"}}),
              state_event("org.mxctl.managed", "", {{"key", "ops"}}),
              state_event("m.space.parent", "!space:mxsim.test", {{"via", {"mxsim.test"}}})}}});
  REQUIRE(!old_id.empty());
  REQUIRE(sim.join(alice, old_id).status == 200);
  REQUIRE(sim.member_action(bot, old_id, "ban", sim.id("carol")).status == 200);

  std::string new_id = upgraded(sim, bot, old_id, "9");
  REQUIRE(!new_id.empty());
  CHECK(new_id != old_id);

  Reply tombstone = sim.get(Sim::room_path(old_id, "/state/m.room.tombstone/?format=event"), bot);
  REQUIRE(tombstone.status == 200);
  CHECK(tombstone.body["content"] ==
        json({{"body", "This room has been replaced"}, {"replacement_room", new_id}}));
  CHECK(tombstone.body["sender"] == sim.id("bot"));

  Reply create = sim.get_state(bot, new_id, "m.room.create");
  REQUIRE(create.status == 200);
  CHECK(create.body == json({{"creator", sim.id("bot")},
                             {"room_version", "9"},
                             {"predecessor", {{"room_id", old_id}, {"event_id", tombstone.body["event_id"]}}}}));

  // Synapse's list, not the custom marker nor m.space.parent; with the
  // private_chat preset underneath, whose defaults the copies override.
  std::vector<std::string> expected = {"m.room.create/",
                                       "m.room.member/@bot:mxsim.test",
                                       "m.room.power_levels/",
                                       "m.room.join_rules/",
                                       "m.room.name/",
                                       "m.room.topic/",
                                       "m.room.history_visibility/",
                                       "m.room.guest_access/",
                                       "m.room.avatar/",
                                       "m.room.encryption/",
                                       "m.room.server_acl/",
                                       "m.room.member/@carol:mxsim.test"};
  std::vector<json> cloned = events(sim, bot, new_id);
  CHECK(keys_of(cloned) == expected);
  for (const char* type : {"m.room.join_rules", "m.room.name", "m.room.topic", "m.room.history_visibility",
                           "m.room.guest_access", "m.room.avatar", "m.room.encryption", "m.room.server_acl"}) {
    INFO(type);
    CHECK(sim.get_state(bot, new_id, type).body == sim.get_state(bot, old_id, type).body);
  }
  CHECK(sim.get_state(bot, new_id, "m.room.join_rules").body["join_rule"] == "public");
  CHECK(sim.get_state(bot, new_id, "org.mxctl.managed").status == 404);
  CHECK(sim.get_state(bot, new_id, "m.space.parent", "!space:mxsim.test").status == 404);

  // Alice was joined and is not even invited; carol's ban came along.
  CHECK(sim.get_state(bot, new_id, "m.room.member", sim.id("alice")).status == 404);
  CHECK(sim.get_state(bot, new_id, "m.room.member", sim.id("carol")).body["membership"] == "ban");
  CHECK(sim.get_state(bot, old_id, "m.room.member", sim.id("alice")).body["membership"] == "join");
  Reply joined = sim.get("/_matrix/client/v3/joined_rooms", alice);
  CHECK(joined.body["joined_rooms"] == json::array({old_id}));
}

TEST_CASE("mxsim upgrade: creation content keeps a space's type and m.federate false, children are copied",
          "[mxsim][upgrade]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string space_id = sim.create_room(bot, {{"creation_content", {{"type", "m.space"}, {"m.federate", false}}},
                                               {"name", "Riverside"}});
  std::string child_id = sim.create_room(bot, {{"name", "General"}});
  std::string gone_id = sim.create_room(bot, {{"name", "Gone"}});
  REQUIRE(sim.put_state(bot, space_id, "m.space.child", child_id, {{"via", {"mxsim.test"}}}).status == 200);
  REQUIRE(sim.put_state(bot, space_id, "m.space.child", gone_id, {{"via", {"mxsim.test"}}}).status == 200);
  REQUIRE(sim.put_state(bot, space_id, "m.space.child", gone_id, json::object()).status == 200);

  std::string new_id = upgraded(sim, bot, space_id, "10");
  Reply create = sim.get_state(bot, new_id, "m.room.create");
  CHECK(create.body["type"] == "m.space");
  CHECK(create.body["m.federate"] == false);
  CHECK(create.body["room_version"] == "10");
  CHECK(sim.get_state(bot, new_id, "m.space.child", child_id).body == json({{"via", {"mxsim.test"}}}));
  CHECK(sim.get_state(bot, new_id, "m.space.child", gone_id).status == 404);

  SECTION("a plain room's children are not copied") {
    REQUIRE(sim.put_state(bot, child_id, "m.space.child", gone_id, {{"via", {"mxsim.test"}}}).status == 200);
    std::string plain_id = upgraded(sim, bot, child_id, "10");
    CHECK_FALSE(sim.get_state(bot, plain_id, "m.room.create").body.contains("type"));
    CHECK(sim.get_state(bot, plain_id, "m.space.child", gone_id).status == 404);
  }
}

TEST_CASE("mxsim upgrade: the upgrader is raised while the room is cloned, then the old levels are restored",
          "[mxsim][upgrade]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string alice = sim.user("alice");
  json levels = power_levels_with(sim.id("bot"), {{"users", {{sim.id("bot"), 100}, {sim.id("alice"), 60}}},
                                                  {"events", {{"m.room.tombstone", 60}, {"m.room.power_levels", 100}}},
                                                  {"invite", 0}});
  std::string old_id = sim.create_room(bot, {{"preset", "public_chat"}, {"power_level_content_override", levels}});
  REQUIRE(sim.join(alice, old_id).status == 200);
  json old_levels = sim.get_state(bot, old_id, "m.room.power_levels").body;

  std::string new_id = upgraded(sim, alice, old_id, "10");
  std::vector<json> sent;
  for (const auto& event : events(sim, alice, new_id)) {
    if (event["type"] == "m.room.power_levels") {
      sent.push_back(event["content"]);
    }
  }
  REQUIRE(sent.size() == 2);
  json raised = old_levels;
  raised["users"][sim.id("alice")] = 100;
  CHECK(sent[0] == raised);
  CHECK(sent[1] == old_levels);

  // Alice (60) may not change the old room's levels (100): Synapse only
  // logs "Unable to update PLs in old room" and answers the new room.
  CHECK(sim.get_state(bot, old_id, "m.room.power_levels").body == old_levels);

  SECTION("with users_default 50 the old room needs 51") {
    json generous = power_levels_with(sim.id("bot"), {{"users_default", 50}});
    std::string room_id = sim.create_room(bot, {{"power_level_content_override", generous}});
    upgraded(sim, bot, room_id, "10");
    json after = sim.get_state(bot, room_id, "m.room.power_levels").body;
    CHECK(after["events_default"] == 51);
    CHECK(after["invite"] == 51);
  }
  SECTION("an upgrader already at the top restricts the old room and sends the new levels once") {
    std::string room_id = sim.create_room(bot);
    json before = sim.get_state(bot, room_id, "m.room.power_levels").body;
    REQUIRE(before["invite"] == 0);
    std::string replacement = upgraded(sim, bot, room_id, "10");
    // Ordinary members may no longer speak or invite in the old room.
    json restricted = before;
    restricted["events_default"] = 50;
    restricted["invite"] = 50;
    CHECK(sim.get_state(bot, room_id, "m.room.power_levels").body == restricted);
    CHECK(sim.get_state(bot, replacement, "m.room.power_levels").body == before);
    int count = 0;
    for (const auto& event : events(sim, bot, replacement)) {
      count += event["type"] == "m.room.power_levels" ? 1 : 0;
    }
    CHECK(count == 1);
  }
}

TEST_CASE("mxsim upgrade: local aliases move to the new room with the canonical alias", "[mxsim][upgrade]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string old_id = sim.create_room(bot, {{"room_alias_name", "ops"}});
  for (const char* alias : {"#ops-alt:mxsim.test", "#ops-extra:mxsim.test"}) {
    REQUIRE(sim.put("/_matrix/client/v3/directory/room/" + enc(alias), bot, {{"room_id", old_id}}).status == 200);
  }
  REQUIRE(sim.put_state(bot, old_id, "m.room.canonical_alias", "",
                        {{"alias", "#ops:mxsim.test"}, {"alt_aliases", {"#ops-alt:mxsim.test"}}})
              .status == 200);

  std::string new_id = upgraded(sim, bot, old_id, "10");
  for (const char* alias : {"#ops:mxsim.test", "#ops-alt:mxsim.test", "#ops-extra:mxsim.test"}) {
    INFO(alias);
    CHECK(sim.get("/_matrix/client/v3/directory/room/" + enc(alias)).body["room_id"] == new_id);
  }
  CHECK(sim.get_state(bot, old_id, "m.room.canonical_alias").body == json::object());
  CHECK(sim.get_state(bot, new_id, "m.room.canonical_alias").body ==
        json({{"alias", "#ops:mxsim.test"}, {"alt_aliases", {"#ops-alt:mxsim.test"}}}));
}

TEST_CASE("mxsim upgrade: directory listing, m.direct and room tags follow the room, the preset adds guest access", "[mxsim][upgrade]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string old_id = sim.create_room(bot, {{"visibility", "public"}});
  REQUIRE(sim.put("/_matrix/client/v3/user/" + enc(sim.id("bot")) + "/account_data/m.direct", bot,
                  {{sim.id("alice"), {old_id}}})
              .status == 200);
  REQUIRE(sim.put("/_matrix/client/v3/user/" + enc(sim.id("bot")) + "/rooms/" + enc(old_id) + "/account_data/m.tag",
                  bot, {{"tags", {{"u.work", {{"order", 0.5}}}}}})
              .status == 200);

  std::string new_id = upgraded(sim, bot, old_id, "10");
  CHECK(sim.get("/_matrix/client/v3/directory/list/room/" + enc(old_id)).body["visibility"] == "private");
  CHECK(sim.get("/_matrix/client/v3/directory/list/room/" + enc(new_id)).body["visibility"] == "public");
  Reply direct = sim.get("/_matrix/client/v3/user/" + enc(sim.id("bot")) + "/account_data/m.direct", bot);
  CHECK(direct.body == json({{sim.id("alice"), {old_id, new_id}}}));
  Reply tags =
      sim.get("/_matrix/client/v3/user/" + enc(sim.id("bot")) + "/rooms/" + enc(new_id) + "/account_data/m.tag", bot);
  CHECK(tags.body == json({{"tags", {{"u.work", {{"order", 0.5}}}}}}));
  // The private_chat preset under the clone adds guest access the public room never had.
  CHECK(sim.get_state(bot, old_id, "m.room.guest_access").status == 404);
  CHECK(sim.get_state(bot, new_id, "m.room.guest_access").body == json({{"guest_access", "can_join"}}));
}

TEST_CASE("mxsim upgrade: refusals change nothing", "[mxsim][upgrade]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string alice = sim.user("alice");
  std::string outsider = sim.user("outsider");
  std::string room_id = sim.create_room(bot, {{"preset", "public_chat"}});
  REQUIRE(sim.join(alice, room_id).status == 200);
  size_t before = events(sim, bot, room_id).size();
  size_t rooms_before = sim.hs().state().rooms.size();

  SECTION("an unknown room version") {
    Reply reply = upgrade(sim, bot, room_id, "99");
    CHECK(reply.status == 400);
    CHECK(reply.errcode() == "M_UNSUPPORTED_ROOM_VERSION");
    CHECK(reply.error() == "Your homeserver does not support this room version");
    CHECK(upgrade(sim, bot, room_id, 9).errcode() == "M_UNSUPPORTED_ROOM_VERSION");
  }
  SECTION("no new_version") {
    Reply reply = sim.post(Sim::room_path(room_id, "/upgrade"), bot, json::object());
    CHECK(reply.status == 400);
    CHECK(reply.errcode() == "M_MISSING_PARAM");
  }
  SECTION("a member without the tombstone's level") {
    Reply reply = upgrade(sim, alice, room_id, "10");
    CHECK(reply.status == 403);
    CHECK(reply.errcode() == "M_FORBIDDEN");
    CHECK(reply.error() == "You don't have permission to post that to the room. user_level (0) < send_level (100)");
  }
  SECTION("somebody not in the room") {
    Reply reply = upgrade(sim, outsider, room_id, "10");
    CHECK(reply.status == 403);
    CHECK(reply.errcode() == "M_FORBIDDEN");
  }
  SECTION("an unknown room") {
    Reply reply = upgrade(sim, bot, "!nowhere:mxsim.test", "10");
    CHECK(reply.status == 404);
    CHECK(reply.errcode() == "M_NOT_FOUND");
    CHECK(reply.error() == "Unknown room id !nowhere:mxsim.test");
  }
  SECTION("no token") {
    CHECK(upgrade(sim, "", room_id, "10").status == 401);
  }
  CHECK(events(sim, bot, room_id).size() == before);
  auto lock = sim.hs().read_lock();
  CHECK(sim.hs().state().rooms.size() == rooms_before);
}

TEST_CASE("mxsim upgrade: a repeat within five minutes answers the same room, another user is refused",
          "[mxsim][upgrade]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string other = sim.user("other");
  std::string room_id = sim.create_room(
      bot, {{"power_level_content_override", power_levels_with(sim.id("bot"), {{"users", {{sim.id("bot"), 100},
                                                                                          {sim.id("other"), 100}}}})},
            {"invite", {sim.id("other")}}});
  REQUIRE(sim.join(other, room_id).status == 200);
  std::string first = upgraded(sim, bot, room_id, "10");
  size_t old_events = events(sim, bot, room_id).size();

  CHECK(upgraded(sim, bot, room_id, "10") == first);
  CHECK(events(sim, bot, room_id).size() == old_events);
  Reply refused = upgrade(sim, other, room_id, "10");
  CHECK(refused.status == 400);
  CHECK(refused.errcode() == "M_UNKNOWN");
  CHECK(refused.error() == "An upgrade for this room is currently in progress");
}

TEST_CASE("mxsim upgrade: /sync shows the tombstone, and the new room joined only for the upgrader",
          "[mxsim][upgrade]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string alice = sim.user("alice");
  std::string old_id = sim.create_room(bot, {{"preset", "public_chat"}});
  REQUIRE(sim.join(alice, old_id).status == 200);
  std::string bot_since = sim.get("/_matrix/client/v3/sync?timeout=0", bot).body["next_batch"];
  std::string alice_since = sim.get("/_matrix/client/v3/sync?timeout=0", alice).body["next_batch"];

  std::string new_id = upgraded(sim, bot, old_id, "10");
  auto tombstone_in = [&](const json& rooms) {
    for (const auto& event : rooms["join"][old_id]["timeline"]["events"]) {
      if (event["type"] == "m.room.tombstone") {
        return event["content"]["replacement_room"] == new_id;
      }
    }
    return false;
  };
  Reply bot_sync = sim.get("/_matrix/client/v3/sync?timeout=0&since=" + enc(bot_since), bot);
  REQUIRE(bot_sync.status == 200);
  CHECK(tombstone_in(bot_sync.body["rooms"]));
  REQUIRE(bot_sync.body["rooms"]["join"].contains(new_id));
  bool create_seen = false;
  for (const auto& event : bot_sync.body["rooms"]["join"][new_id]["state"]["events"]) {
    create_seen = create_seen || (event["type"] == "m.room.create" && event["content"].contains("predecessor"));
  }
  for (const auto& event : bot_sync.body["rooms"]["join"][new_id]["timeline"]["events"]) {
    create_seen = create_seen || (event["type"] == "m.room.create" && event["content"].contains("predecessor"));
  }
  CHECK(create_seen);

  Reply alice_sync = sim.get("/_matrix/client/v3/sync?timeout=0&since=" + enc(alice_since), alice);
  REQUIRE(alice_sync.status == 200);
  CHECK(tombstone_in(alice_sync.body["rooms"]));
  CHECK_FALSE(alice_sync.body["rooms"].contains("invite"));
  CHECK_FALSE(alice_sync.body["rooms"]["join"].contains(new_id));
}

}  // namespace room_upgrade_test
