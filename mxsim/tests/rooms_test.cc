// createRoom, state reads and writes, power levels, messages and redaction.

#include <catch2/catch.hpp>

#include "mxsim/tests/sim_fixture.h"

namespace rooms_test {

using mxsim_test::enc;
using mxsim_test::Reply;
using mxsim_test::Sim;

namespace {

std::vector<std::string> event_types(Sim& sim, const std::string& token, const std::string& room_id) {
  Reply reply = sim.get(Sim::room_path(room_id, "/messages?dir=f&limit=100"), token);
  REQUIRE(reply.status == 200);
  std::vector<std::string> types;
  for (const auto& event : reply.body["chunk"]) {
    std::string type = event["type"];
    if (event.contains("state_key")) {
      type += "/" + event["state_key"].get<std::string>();
    }
    types.push_back(type);
  }
  return types;
}

}  // namespace

TEST_CASE("mxsim: createRoom sends its events in the spec's order", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  sim.user("alice");
  std::string room_id = sim.create_room(
      bot, {{"name", "Ops"},
            {"topic", "Ops chat"},
            {"room_alias_name", "ops"},
            {"preset", "private_chat"},
            {"initial_state", {{{"type", "m.room.encryption"}, {"state_key", ""}, {"content", {{"algorithm", "m.megolm.v1.aes-sha2"}}}}}},
            {"invite", {"@alice:mxsim.test"}}});
  REQUIRE(!room_id.empty());
  std::vector<std::string> expected = {"m.room.create/",
                                       "m.room.member/@bot:mxsim.test",
                                       "m.room.power_levels/",
                                       "m.room.canonical_alias/",
                                       "m.room.join_rules/",
                                       "m.room.history_visibility/",
                                       "m.room.guest_access/",
                                       "m.room.encryption/",
                                       "m.room.name/",
                                       "m.room.topic/",
                                       "m.room.member/@alice:mxsim.test"};
  CHECK(event_types(sim, bot, room_id) == expected);
}

TEST_CASE("mxsim: createRoom answers room_id and the alias resolves", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  Reply reply = sim.post("/_matrix/client/v3/createRoom", bot, {{"room_alias_name", "general"}});
  REQUIRE(reply.status == 200);
  CHECK(reply.body["room_alias"] == "#general:mxsim.test");
  Reply alias = sim.get("/_matrix/client/v3/directory/room/" + enc("#general:mxsim.test"));
  CHECK(alias.status == 200);
  CHECK(alias.body["room_id"] == reply.body["room_id"]);
  CHECK(alias.body["servers"] == nlohmann::json::array({"mxsim.test"}));
  Reply canonical = sim.get_state(bot, reply.body["room_id"], "m.room.canonical_alias");
  CHECK(canonical.body["alias"] == "#general:mxsim.test");
}

TEST_CASE("mxsim: a taken room_alias_name is 400 M_ROOM_IN_USE", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  REQUIRE(!sim.create_room(bot, {{"room_alias_name", "ops"}}).empty());
  Reply again = sim.post("/_matrix/client/v3/createRoom", bot, {{"room_alias_name", "ops"}});
  CHECK(again.status == 400);
  CHECK(again.errcode() == "M_ROOM_IN_USE");
  CHECK(again.error() == "Room alias already taken");
}

TEST_CASE("mxsim: an unknown room_version is 400 M_UNSUPPORTED_ROOM_VERSION", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  Reply reply = sim.post("/_matrix/client/v3/createRoom", bot, {{"room_version", "999"}});
  CHECK(reply.status == 400);
  CHECK(reply.errcode() == "M_UNSUPPORTED_ROOM_VERSION");
  CHECK(sim.post("/_matrix/client/v3/createRoom", bot, {{"room_version", "9"}}).status == 200);
}

TEST_CASE("mxsim: private_chat power levels match Synapse's defaults", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string room_id = sim.create_room(bot, {{"preset", "private_chat"}});
  Reply levels = sim.get_state(bot, room_id, "m.room.power_levels");
  REQUIRE(levels.status == 200);
  nlohmann::json expected = {{"users", {{"@bot:mxsim.test", 100}}},
                             {"users_default", 0},
                             {"events",
                              {{"m.room.name", 50},
                               {"m.room.power_levels", 100},
                               {"m.room.history_visibility", 100},
                               {"m.room.canonical_alias", 50},
                               {"m.room.avatar", 50},
                               {"m.room.tombstone", 100},
                               {"m.room.server_acl", 100},
                               {"m.room.encryption", 100}}},
                             {"events_default", 0},
                             {"state_default", 50},
                             {"ban", 50},
                             {"kick", 50},
                             {"redact", 50},
                             {"invite", 0},
                             {"historical", 100}};
  CHECK(levels.body == expected);
}

TEST_CASE("mxsim: trusted_private_chat gives invitees 100 and overrides merge", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  sim.user("alice");
  std::string room_id = sim.create_room(bot, {{"preset", "trusted_private_chat"},
                                              {"invite", {"@alice:mxsim.test"}},
                                              {"power_level_content_override", {{"events_default", 10}}}});
  Reply levels = sim.get_state(bot, room_id, "m.room.power_levels");
  CHECK(levels.body["users"]["@alice:mxsim.test"] == 100);
  CHECK(levels.body["events_default"] == 10);
  CHECK(levels.body["invite"] == 0);
}

TEST_CASE("mxsim: creation_content makes spaces and sets m.federate", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string room_id =
      sim.create_room(bot, {{"creation_content", {{"type", "m.space"}, {"m.federate", false}}}});
  Reply create = sim.get_state(bot, room_id, "m.room.create");
  CHECK(create.body["type"] == "m.space");
  CHECK(create.body["m.federate"] == false);
  CHECK(create.body["creator"] == "@bot:mxsim.test");
  CHECK(create.body["room_version"] == "10");
}

TEST_CASE("mxsim: state reads", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string outsider = sim.user("outsider");
  std::string room_id = sim.create_room(bot, {{"name", "Ops"}});

  SECTION("a member reads one event and the whole state") {
    CHECK(sim.get_state(bot, room_id, "m.room.name").body == nlohmann::json({{"name", "Ops"}}));
    Reply all = sim.get(Sim::room_path(room_id, "/state"), bot);
    REQUIRE(all.status == 200);
    CHECK(all.body.is_array());
    CHECK(all.body.size() >= 6);
  }
  SECTION("format=event gives the whole event") {
    Reply event = sim.get(Sim::room_path(room_id, "/state/m.room.name/?format=event"), bot);
    CHECK(event.body["type"] == "m.room.name");
    CHECK(event.body["sender"] == "@bot:mxsim.test");
  }
  SECTION("an absent state key is 404 Event not found.") {
    Reply absent = sim.get_state(bot, room_id, "m.room.topic");
    CHECK(absent.status == 404);
    CHECK(absent.errcode() == "M_NOT_FOUND");
    CHECK(absent.error() == "Event not found.");
  }
  SECTION("a non-member gets 403 previews are disabled") {
    Reply refused = sim.get_state(outsider, room_id, "m.room.name");
    CHECK(refused.status == 403);
    CHECK(refused.errcode() == "M_FORBIDDEN");
    CHECK(refused.error() ==
          "User @outsider:mxsim.test not in room " + room_id + ", and room previews are disabled");
    CHECK(sim.get(Sim::room_path(room_id, "/state"), outsider).status == 403);
  }
  SECTION("an unknown room is 403 too, as Synapse answers") {
    Reply refused = sim.get_state(bot, "!nope:mxsim.test", "m.room.name");
    CHECK(refused.status == 403);
    CHECK(refused.errcode() == "M_FORBIDDEN");
  }
}

TEST_CASE("mxsim: an identical state PUT returns the same event id and sends nothing", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string room_id = sim.create_room(bot);
  Reply first = sim.put_state(bot, room_id, "m.room.topic", "", {{"topic", "hello"}});
  REQUIRE(first.status == 200);
  size_t events_before = event_types(sim, bot, room_id).size();
  Reply second = sim.put_state(bot, room_id, "m.room.topic", "", {{"topic", "hello"}});
  CHECK(second.status == 200);
  CHECK(second.body["event_id"] == first.body["event_id"]);
  CHECK(event_types(sim, bot, room_id).size() == events_before);
  Reply changed = sim.put_state(bot, room_id, "m.room.topic", "", {{"topic", "bye"}});
  CHECK(changed.body["event_id"] != first.body["event_id"]);
}

TEST_CASE("mxsim: state keys may be empty, custom or contain slashes", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string room_id = sim.create_room(bot);
  CHECK(sim.put(Sim::room_path(room_id, "/state/org.mxctl.managed"), bot, {{"key", "a"}}).status == 200);
  CHECK(sim.get(Sim::room_path(room_id, "/state/org.mxctl.managed"), bot).body["key"] == "a");
  CHECK(sim.put_state(bot, room_id, "m.space.child", "!x/y:mxsim.test", {{"via", {"mxsim.test"}}}).status == 200);
  CHECK(sim.get_state(bot, room_id, "m.space.child", "!x/y:mxsim.test").body["via"][0] == "mxsim.test");
}

TEST_CASE("mxsim: power levels govern state events", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string mod = sim.user("mod");
  std::string member = sim.user("member");
  std::string room_id = sim.create_room(
      bot, {{"preset", "public_chat"},
            {"power_level_content_override", {{"users", {{"@bot:mxsim.test", 100}, {"@mod:mxsim.test", 50}}}}}});
  REQUIRE(sim.join(mod, room_id).status == 200);
  REQUIRE(sim.join(member, room_id).status == 200);

  SECTION("state_default applies to types not listed in events") {
    Reply refused = sim.put_state(member, room_id, "org.example.custom", "", {{"a", 1}});
    CHECK(refused.status == 403);
    CHECK(refused.errcode() == "M_FORBIDDEN");
    CHECK(refused.error() ==
          "You don't have permission to post that to the room. user_level (0) < send_level (50)");
    CHECK(sim.put_state(mod, room_id, "org.example.custom", "", {{"a", 1}}).status == 200);
  }
  SECTION("a moderator cannot send power levels that need 100") {
    Reply levels = sim.get_state(bot, room_id, "m.room.power_levels");
    Reply refused = sim.put_state(mod, room_id, "m.room.power_levels", "", levels.body);
    CHECK(refused.status == 403);
    CHECK(refused.error() ==
          "You don't have permission to post that to the room. user_level (50) < send_level (100)");
  }
  SECTION("nobody raises anyone above their own level") {
    Reply levels = sim.get_state(bot, room_id, "m.room.power_levels");
    nlohmann::json content = levels.body;
    content["events"]["m.room.power_levels"] = 50;
    REQUIRE(sim.put_state(bot, room_id, "m.room.power_levels", "", content).status == 200);
    content["users"]["@member:mxsim.test"] = 75;
    Reply refused = sim.put_state(mod, room_id, "m.room.power_levels", "", content);
    CHECK(refused.status == 403);
    CHECK(refused.error() == "You don't have permission to add ops level greater than your own");
    content["users"]["@member:mxsim.test"] = 50;
    CHECK(sim.put_state(mod, room_id, "m.room.power_levels", "", content).status == 200);
    content["users"]["@member:mxsim.test"] = 0;
    Reply demote_peer = sim.put_state(mod, room_id, "m.room.power_levels", "", content);
    CHECK(demote_peer.status == 403);
    CHECK(demote_peer.error() == "You don't have permission to remove ops level equal to your own");
  }
  SECTION("a string level is 400 M_BAD_JSON") {
    Reply levels = sim.get_state(bot, room_id, "m.room.power_levels");
    nlohmann::json content = levels.body;
    content["users"]["@member:mxsim.test"] = "50";
    Reply refused = sim.put_state(bot, room_id, "m.room.power_levels", "", content);
    CHECK(refused.status == 400);
    CHECK(refused.errcode() == "M_BAD_JSON");
  }
  SECTION("others' state keys are theirs") {
    Reply refused = sim.put_state(bot, room_id, "org.example.profile", "@member:mxsim.test", {{"x", 1}});
    CHECK(refused.status == 403);
    CHECK(refused.error() == "You are not allowed to set others state");
  }
  SECTION("events_default 100 stops a moderator messaging") {
    Reply levels = sim.get_state(bot, room_id, "m.room.power_levels");
    nlohmann::json content = levels.body;
    content["events_default"] = 100;
    REQUIRE(sim.put_state(bot, room_id, "m.room.power_levels", "", content).status == 200);
    Reply refused = sim.put(Sim::room_path(room_id, "/send/m.room.message/t1"), mod, {{"body", "hi"}});
    CHECK(refused.status == 403);
    CHECK(refused.errcode() == "M_FORBIDDEN");
  }
}

TEST_CASE("mxsim: encryption {} is accepted like Synapse and stays readable", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string room_id = sim.create_room(bot);
  REQUIRE(sim.put_state(bot, room_id, "m.room.encryption", "", {{"algorithm", "m.megolm.v1.aes-sha2"}}).status == 200);
  Reply off = sim.put_state(bot, room_id, "m.room.encryption", "", nlohmann::json::object());
  CHECK(off.status == 200);
  CHECK(sim.get_state(bot, room_id, "m.room.encryption").body == nlohmann::json::object());
}

TEST_CASE("mxsim: canonical aliases must point at the room", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string room_id = sim.create_room(bot);
  Reply refused = sim.put_state(bot, room_id, "m.room.canonical_alias", "", {{"alias", "#missing:mxsim.test"}});
  CHECK(refused.status == 400);
  CHECK(refused.errcode() == "M_BAD_ALIAS");
}

TEST_CASE("mxsim: send is idempotent per access token and transaction id", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string room_id = sim.create_room(bot);
  Reply first = sim.put(Sim::room_path(room_id, "/send/m.room.message/txn1"), bot, {{"msgtype", "m.text"}, {"body", "a"}});
  REQUIRE(first.status == 200);
  Reply again = sim.put(Sim::room_path(room_id, "/send/m.room.message/txn1"), bot, {{"msgtype", "m.text"}, {"body", "a"}});
  CHECK(again.body["event_id"] == first.body["event_id"]);
  Reply other = sim.put(Sim::room_path(room_id, "/send/m.room.message/txn2"), bot, {{"msgtype", "m.text"}, {"body", "a"}});
  CHECK(other.body["event_id"] != first.body["event_id"]);
  std::string second_token = sim.hs().issue_token("@bot:mxsim.test");
  Reply other_token =
      sim.put(Sim::room_path(room_id, "/send/m.room.message/txn1"), second_token, {{"msgtype", "m.text"}, {"body", "a"}});
  CHECK(other_token.body["event_id"] != first.body["event_id"]);
}

TEST_CASE("mxsim: writes to an unknown room are 404 M_NOT_FOUND", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  Reply send = sim.put(Sim::room_path("!nope:mxsim.test", "/send/m.room.message/t"), bot, {{"body", "x"}});
  CHECK(send.status == 404);
  CHECK(send.errcode() == "M_NOT_FOUND");
  Reply state = sim.put_state(bot, "!nope:mxsim.test", "m.room.topic", "", {{"topic", "x"}});
  CHECK(state.status == 404);
  CHECK(state.errcode() == "M_NOT_FOUND");
}

TEST_CASE("mxsim: redaction needs the redact level for others' events", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string member = sim.user("member");
  std::string room_id = sim.create_room(bot, {{"preset", "public_chat"}});
  REQUIRE(sim.join(member, room_id).status == 200);
  std::string bots_message =
      sim.put(Sim::room_path(room_id, "/send/m.room.message/1"), bot, {{"body", "secret"}}).body["event_id"];
  std::string own_message =
      sim.put(Sim::room_path(room_id, "/send/m.room.message/2"), member, {{"body", "oops"}}).body["event_id"];

  Reply refused = sim.put(Sim::room_path(room_id, "/redact/" + enc(bots_message) + "/r1"), member, nlohmann::json::object());
  CHECK(refused.status == 403);
  CHECK(refused.error() == "You don't have permission to redact events");
  CHECK(sim.put(Sim::room_path(room_id, "/redact/" + enc(own_message) + "/r2"), member, nlohmann::json::object()).status == 200);
  Reply by_mod = sim.put(Sim::room_path(room_id, "/redact/" + enc(bots_message) + "/r3"), bot, {{"reason", "spam"}});
  CHECK(by_mod.status == 200);
  Reply redacted = sim.get(Sim::room_path(room_id, "/event/" + enc(bots_message)), bot);
  CHECK(redacted.body["content"] == nlohmann::json::object());
  CHECK(redacted.body["unsigned"]["redacted_because"]["event_id"] == by_mod.body["event_id"]);
}

TEST_CASE("mxsim: power_level_content_override must keep the creator in users", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  Reply refused = sim.post("/_matrix/client/v3/createRoom", bot,
                           {{"power_level_content_override", {{"users", {{"@someone:mxsim.test", 100}}}}}});
  CHECK(refused.status == 400);
  CHECK(refused.errcode() == "M_UNKNOWN");
}

TEST_CASE("mxsim: power levels in initial_state win over the override", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  nlohmann::json levels = {{"users", {{"@bot:mxsim.test", 100}}}, {"state_default", 60}};
  std::string room_id = sim.create_room(
      bot, {{"initial_state", {{{"type", "m.room.power_levels"}, {"state_key", ""}, {"content", levels}}}},
            {"power_level_content_override", {{"state_default", 10}}}});
  REQUIRE(!room_id.empty());
  CHECK(sim.get_state(bot, room_id, "m.room.power_levels").body == levels);
}

TEST_CASE("mxsim: event content must be canonical JSON and not too large", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string room_id = sim.create_room(bot);
  Reply floating = sim.raw("PUT", Sim::room_path(room_id, "/send/m.room.message/f"), bot, R"({"body":"x","n":1.5})");
  CHECK(floating.status == 400);
  CHECK(floating.errcode() == "M_BAD_JSON");
  Reply huge_int = sim.raw("PUT", Sim::room_path(room_id, "/send/m.room.message/i"), bot, R"({"n":9007199254740993})");
  CHECK(huge_int.status == 400);
  CHECK(huge_int.errcode() == "M_BAD_JSON");
  Reply too_large = sim.put(Sim::room_path(room_id, "/send/m.room.message/l"), bot, {{"body", std::string(70000, 'x')}});
  CHECK(too_large.status == 413);
  CHECK(too_large.errcode() == "M_TOO_LARGE");
}

}  // namespace rooms_test
