#include <catch2/catch.hpp>

#include <initializer_list>
#include <vector>

#include "adapters/homeserver/room_state_reader.h"
#include "adapters/homeserver/room_upgrades.h"

namespace room_upgrades_test {

namespace {

model::Settings settings() {
  model::Settings s;
  s.server_name = "example.org";
  s.bot_user_id = "@mxctl:example.org";
  return s;
}

nlohmann::json state(const std::string& type, const std::string& state_key, const nlohmann::json& content) {
  return {{"type", type}, {"state_key", state_key}, {"content", content}, {"sender", "@mxctl:example.org"}};
}

nlohmann::json marker(const std::string& key) {
  return state(settings().marker_event_type, "", {{"key", key}, {"instance", settings().instance}});
}

adapters::BotRoom bot_room(const std::string& room_id, std::initializer_list<nlohmann::json> events) {
  nlohmann::json array = nlohmann::json::array();
  for (const nlohmann::json& event : events) {
    array.push_back(event);
  }
  return adapters::BotRoom{adapters::parse_room_state(room_id, array, {}, settings()), {}};
}

}  // namespace

TEST_CASE("room upgrades: the tombstone and the predecessor are read", "[upgrade][room_state]") {
  nlohmann::json events = nlohmann::json::array(
      {state("m.room.create", "", {{"room_version", "10"}, {"predecessor", {{"room_id", "!old:example.org"}}}}),
       state("m.room.tombstone", "", {{"body", "moved"}, {"replacement_room", "!next:example.org"}})});
  model::ObservedRoom room = adapters::parse_room_state("!mid:example.org", events, {}, settings());
  CHECK(room.predecessor == "!old:example.org");
  CHECK(room.replacement_room == std::optional<std::string>("!next:example.org"));

  SECTION("a tombstone taken back (empty content) closes nothing") {
    events[1]["content"] = nlohmann::json::object();
    CHECK_FALSE(adapters::parse_room_state("!mid:example.org", events, {}, settings()).replacement_room);
  }
  SECTION("a tombstone naming no room still closes the room") {
    events[1]["content"] = {{"body", "gone"}};
    CHECK(adapters::parse_room_state("!mid:example.org", events, {}, settings()).replacement_room ==
          std::optional<std::string>(""));
  }
  SECTION("no tombstone, no predecessor") {
    model::ObservedRoom plain = adapters::parse_room_state("!r:example.org", nlohmann::json::array(), {}, settings());
    CHECK_FALSE(plain.replacement_room);
    CHECK(plain.predecessor.empty());
  }
}

TEST_CASE("room upgrades: a room with two parents answers to the managed one, whatever the order",
          "[upgrade][room_state]") {
  // After its space was upgraded, a room names the old space (known only by
  // id now) and the new one (a managed key).
  std::vector<nlohmann::json> parents = {
      state("m.space.parent", "!oldspace:example.org", {{"via", {"example.org"}}, {"canonical", true}}),
      state("m.space.parent", "!space:example.org", {{"via", {"example.org"}}, {"canonical", true}})};
  const std::map<std::string, std::string> key_of = {{"!space:example.org", "community/river"}};
  for (int order = 0; order < 2; ++order) {
    nlohmann::json events = nlohmann::json::array({parents[order], parents[1 - order]});
    model::ObservedRoom read = adapters::parse_room_state("!r:example.org", events, key_of, settings());
    REQUIRE(read.room.parent);
    CHECK(read.room.parent->key == "community/river");
    CHECK(read.parents.size() == 2);
    // The same when the keys are learnt after reading (from markers).
    model::ObservedRoom later = adapters::parse_room_state("!r:example.org", events, {}, settings());
    adapters::resolve_room_links(later, key_of);
    REQUIRE(later.room.parent);
    CHECK(later.room.parent->key == "community/river");
  }
}

TEST_CASE("room upgrades: a replacement is taken over only when the two rooms name each other", "[upgrade]") {
  auto create = [](const std::string& predecessor) {
    nlohmann::json content = {{"room_version", "10"}};
    if (!predecessor.empty()) {
      content["predecessor"] = {{"room_id", predecessor}};
    }
    return state("m.room.create", "", content);
  };
  auto tombstone = [](const std::string& replacement) {
    return state("m.room.tombstone", "", {{"body", "moved"}, {"replacement_room", replacement}});
  };
  std::map<std::string, adapters::BotRoom> rooms;
  rooms["!old:example.org"] = bot_room("!old:example.org", {create(""), marker("council/a"), tombstone("!new:example.org")});
  rooms["!new:example.org"] = bot_room("!new:example.org", {create("!old:example.org")});
  // A room claiming a predecessor whose tombstone names another room.
  rooms["!claim:example.org"] = bot_room("!claim:example.org", {create("!old:example.org")});
  // A tombstoned room without our marker is not ours to follow.
  rooms["!foreign:example.org"] = bot_room("!foreign:example.org", {create(""), tombstone("!claim:example.org")});
  // Already marked: an ordinary managed room.
  rooms["!b-old:example.org"] = bot_room("!b-old:example.org", {create(""), marker("council/b"), tombstone("!b:example.org")});
  rooms["!b:example.org"] = bot_room("!b:example.org", {create("!b-old:example.org"), marker("council/b")});

  adapters::UpgradedRooms found = adapters::find_upgrades(rooms);
  CHECK(found.retired ==
        std::map<std::string, adapters::RetiredRoom>{{"!old:example.org", {"council/a", "!new:example.org"}},
                                                     {"!b-old:example.org", {"council/b", "!b:example.org"}}});
  CHECK(found.successors == std::map<std::string, std::string>{{"!new:example.org", "council/a"}});
}

}  // namespace room_upgrades_test
