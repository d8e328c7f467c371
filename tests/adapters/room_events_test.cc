#include <catch2/catch.hpp>

#include "adapters/homeserver/room_events.h"
#include "adapters/homeserver/room_state_reader.h"
#include "tests/support/spec_schema.h"

namespace room_events_test {

namespace {

model::Settings settings() {
  model::Settings s;
  s.server_name = "example.org";
  s.bot_user_id = "@mxctl:example.org";
  return s;
}

model::Room general_room() {
  model::Room room;
  room.key = "community/river/general";
  room.alias = "#mxctl.community.river.general:example.org";
  room.name = "River General";
  room.topic = "Chat";
  room.avatar_url = "mxc://example.org/abc";
  room.join_rule = model::JoinRule::restricted;
  room.allow_spaces = {"community/river"};
  room.encrypted = true;
  room.room_version = "10";
  room.parent = model::SpaceLink{"community/river", {"example.org"}, true};
  room.power_levels.users = {{"@mxctl:example.org", 100}, {"@a:example.org", 25}};
  room.power_levels.invite = 25;
  room.power_levels.events = {{"m.room.name", 100}};
  return room;
}

const adapters::RoomIds k_ids = {{"community/river", "!space:example.org"},
                                 {"community/river/general", "!general:example.org"}};

// A state event as a server would hand it out, for the spec's event schemas.
nlohmann::json as_event(const std::string& type, const std::string& state_key, const nlohmann::json& content) {
  return {{"type", type},
          {"state_key", state_key},
          {"content", content},
          {"event_id", "$e:example.org"},
          {"sender", "@mxctl:example.org"},
          {"origin_server_ts", 1},
          {"room_id", "!general:example.org"}};
}

}  // namespace

TEST_CASE("room events: the createRoom body follows the spec", "[room_events]") {
  auto body = adapters::create_room_body(general_room(), k_ids, settings());
  REQUIRE(body);
  CHECK(spec::validate(*body, spec::request_schema("client-server/create_room.yaml", "/createRoom", "post")).empty());
  CHECK((*body)["room_alias_name"] == "mxctl.community.river.general");
  CHECK((*body)["room_version"] == "10");
  CHECK((*body)["power_level_content_override"]["users"]["@a:example.org"] == 25);
  SECTION("every initial state event is valid for its type") {
    std::vector<std::string> types;
    for (const nlohmann::json& state : (*body)["initial_state"]) {
      types.push_back(state["type"]);
      if (state["type"] == "org.mxctl.managed") {
        CHECK(state["content"] == nlohmann::json({{"key", "community/river/general"}, {"instance", "default"}}));
        continue;
      }
      INFO(state.dump());
      CHECK(spec::validate(as_event(state["type"], state["state_key"], state["content"]),
                           spec::event_schema(state["type"]))
                .empty());
    }
    CHECK(types == std::vector<std::string>{"org.mxctl.managed", "m.room.join_rules", "m.room.history_visibility",
                                            "m.room.encryption", "m.room.avatar", "m.space.parent"});
  }
  SECTION("a room that keeps guests out says so in its initial state, in place of the preset's can_join") {
    model::Room council = general_room();
    council.guests_forbidden = true;
    auto council_body = adapters::create_room_body(council, k_ids, settings());
    REQUIRE(council_body);
    std::size_t found = 0;
    for (const nlohmann::json& state : (*council_body)["initial_state"]) {
      if (state["type"] == "m.room.guest_access") {
        ++found;
        CHECK(state["content"] == nlohmann::json({{"guest_access", "forbidden"}}));
        CHECK(spec::validate(as_event(state["type"], state["state_key"], state["content"]),
                             spec::event_schema("m.room.guest_access"))
                  .empty());
      }
    }
    CHECK(found == 1);
  }
  SECTION("a room with a context message is made unencrypted: the message goes out before the encryption") {
    model::Room dm = general_room();
    dm.once_message = model::OnceMessage{"mxctl.dm.req-1.context", "Request accepted!"};
    auto dm_body = adapters::create_room_body(dm, k_ids, settings());
    REQUIRE(dm_body);
    for (const nlohmann::json& state : (*dm_body)["initial_state"]) {
      CHECK(state["type"] != "m.room.encryption");
    }
  }
  SECTION("a space is created with the m.space type") {
    model::Room space = general_room();
    space.kind = model::RoomKind::space;
    space.parent.reset();
    auto space_body = adapters::create_room_body(space, k_ids, settings());
    REQUIRE(space_body);
    CHECK((*space_body)["creation_content"] == nlohmann::json({{"type", "m.space"}}));
  }
  SECTION("a parent whose id is unknown is an error, not a dangling link") {
    auto orphan = adapters::create_room_body(general_room(), {}, settings());
    REQUIRE_FALSE(orphan);
    CHECK(orphan.error().message == "the room id of community/river is not known yet");
  }
}

TEST_CASE("room events: every state write is valid and reads back the same", "[room_events]") {
  model::Room room = general_room();
  room.children = {{"council/x", {"example.org"}, true}};
  adapters::RoomIds ids = k_ids;
  ids["council/x"] = "!council:example.org";
  nlohmann::json events = nlohmann::json::array();
  for (model::StateField field : {model::StateField::name, model::StateField::topic, model::StateField::avatar,
                                  model::StateField::join_rules, model::StateField::history_visibility,
                                  model::StateField::guest_access, model::StateField::encryption,
                                  model::StateField::power_levels}) {
    auto write = adapters::state_write(room, field, "", nullptr, ids, settings());
    REQUIRE(write);
    nlohmann::json event = as_event(write->type, write->state_key, write->content);
    INFO(event.dump());
    CHECK(spec::validate(event, spec::event_schema(write->type)).empty());
    events.push_back(event);
  }
  auto child = adapters::state_write(room, model::StateField::space_child, "council/x", nullptr, ids, settings());
  REQUIRE(child);
  CHECK(child->state_key == "!council:example.org");
  CHECK(spec::validate(as_event(child->type, child->state_key, child->content), spec::event_schema("m.space.child"))
            .empty());
  events.push_back(as_event(child->type, child->state_key, child->content));
  auto parent =
      adapters::state_write(room, model::StateField::space_parent, "community/river", nullptr, ids, settings());
  REQUIRE(parent);
  CHECK(spec::validate(as_event(parent->type, parent->state_key, parent->content),
                       spec::event_schema("m.space.parent"))
            .empty());
  events.push_back(as_event(parent->type, parent->state_key, parent->content));
  events.push_back(as_event("m.room.create", "", {{"room_version", "10"}}));
  events.push_back(as_event("org.mxctl.managed", "", {{"key", room.key}, {"instance", "default"}}));

  std::map<std::string, std::string> key_of;
  for (const auto& [key, id] : ids) {
    key_of[id] = key;
  }
  model::ObservedRoom observed = adapters::parse_room_state("!general:example.org", events, key_of, settings());
  CHECK(observed.marker_key == room.key);
  CHECK(observed.room.name == room.name);
  CHECK(observed.room.topic == room.topic);
  CHECK(observed.room.avatar_url == room.avatar_url);
  CHECK(observed.room.join_rule == model::JoinRule::restricted);
  CHECK(observed.room.allow_spaces == room.allow_spaces);
  CHECK(observed.room.history_visibility == room.history_visibility);
  CHECK(observed.room.guests_forbidden);
  CHECK(observed.room.encrypted);
  CHECK(observed.room.power_levels == room.power_levels);
  CHECK(observed.room.children == room.children);
  CHECK(observed.room.parent == room.parent);
  CHECK(observed.room.room_version == "10");
}

TEST_CASE("room events: guests may join only where m.room.guest_access says can_join", "[room_events]") {
  auto read = [](std::vector<nlohmann::json> events) {
    events.push_back(as_event("m.room.create", "", {{"room_version", "10"}}));
    return adapters::parse_room_state("!r:example.org", nlohmann::json(events), {}, settings()).room.guests_forbidden;
  };
  CHECK(read({}));  // no event: the spec's default, forbidden
  CHECK_FALSE(read({as_event("m.room.guest_access", "", {{"guest_access", "can_join"}})}));
  CHECK(read({as_event("m.room.guest_access", "", {{"guest_access", "forbidden"}})}));
  CHECK(read({as_event("m.room.guest_access", "", {{"guest_access", 1}})}));  // not a value that lets guests in
}

TEST_CASE("room events: a protected room's marker says so, and reading it back keeps the protection",
          "[room_events]") {
  model::Room room = general_room();
  room.protect = true;
  auto body = adapters::create_room_body(room, k_ids, settings());
  REQUIRE(body);
  CHECK((*body)["initial_state"][0]["content"] ==
        nlohmann::json({{"key", "community/river/general"}, {"instance", "default"}, {"protect", true}}));
  auto write = adapters::state_write(room, model::StateField::marker, "", nullptr, k_ids, settings());
  REQUIRE(write);
  CHECK(write->type == "org.mxctl.managed");
  CHECK(write->state_key == "");
  CHECK(write->content == (*body)["initial_state"][0]["content"]);

  auto read = [&](const nlohmann::json& content) {
    nlohmann::json events = nlohmann::json::array({as_event("m.room.create", "", {{"room_version", "10"}}),
                                                   as_event("org.mxctl.managed", "", content)});
    return adapters::parse_room_state("!general:example.org", events, {}, settings());
  };
  CHECK(read(write->content).room.protect);
  CHECK(read(write->content).marker_key == room.key);
  // Markers of rooms made before, and anything but `true`, protect nothing.
  CHECK_FALSE(read({{"key", room.key}, {"instance", "default"}}).room.protect);
  CHECK_FALSE(read({{"key", room.key}, {"instance", "default"}, {"protect", "yes"}}).room.protect);
  // Another instance's marker is not ours to read protection from.
  CHECK_FALSE(read({{"key", room.key}, {"instance", "other"}, {"protect", true}}).room.protect);

  room.protect = false;
  auto unprotected = adapters::state_write(room, model::StateField::marker, "", nullptr, k_ids, settings());
  REQUIRE(unprotected);
  CHECK(unprotected->content == nlohmann::json({{"key", "community/river/general"}, {"instance", "default"}}));
}

TEST_CASE("room events: reading state tolerates what servers really send", "[room_events]") {
  SECTION("string power levels, as old rooms may hold") {
    model::PowerLevels levels = adapters::parse_power_levels({{"ban", "60"}, {"users", {{"@a:x", "30"}}}});
    CHECK(levels.ban == 60);
    CHECK(levels.users.at("@a:x") == 30);
    CHECK(levels.kick == 50);
  }
  SECTION("a marker of another controller instance does not make the room ours") {
    nlohmann::json events = {as_event("org.mxctl.managed", "", {{"key", "community/river"}, {"instance", "other"}})};
    CHECK(adapters::parse_room_state("!r:x", events, {}, settings()).marker_key.empty());
  }
  SECTION("an encryption event without an algorithm is not encryption") {
    nlohmann::json events = {as_event("m.room.encryption", "", nlohmann::json::object())};
    CHECK_FALSE(adapters::parse_room_state("!r:x", events, {}, settings()).room.encrypted);
  }
  SECTION("a child link without via is a removed link") {
    nlohmann::json events = {as_event("m.space.child", "!c:x", nlohmann::json::object())};
    CHECK(adapters::parse_room_state("!r:x", events, {}, settings()).room.children.empty());
  }
  SECTION("members: joined and invited count, a self-leave is voluntary") {
    nlohmann::json leave = as_event("m.room.member", "@b:x", {{"membership", "leave"}});
    leave["sender"] = "@b:x";
    nlohmann::json events = {as_event("m.room.member", "@a:x", {{"membership", "invite"}}), leave,
                             as_event("m.room.member", "@c:x", {{"membership", "ban"}})};
    model::ObservedRoom room = adapters::parse_room_state("!r:x", events, {}, settings());
    CHECK(room.room.members == std::set<std::string>{"@a:x"});
    CHECK(room.members.at("@b:x") == model::MemberState{model::Membership::leave, true});
    CHECK(room.members.at("@c:x") == model::MemberState{model::Membership::ban, false});
  }
}

}  // namespace room_events_test
