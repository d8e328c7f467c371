// A power-levels write changes only what mxctl manages: the content the
// server had goes through the reader, the diff's read-modify-write and
// state_write, and comes out with every other key as it was.

#include <catch2/catch.hpp>

#include "adapters/homeserver/matrix_state_json.h"
#include "adapters/homeserver/room_events.h"
#include "adapters/homeserver/room_state_reader.h"
#include "model/diff.h"
#include "tests/support/spec_schema.h"

namespace power_levels_write_test {

namespace {

const std::string k_bot = "@mxctl:example.org";
const std::string k_alice = "@alice:example.org";

// A Synapse 1.67 createRoom content plus what other clients may add: a
// top-level key of their own, an event type and a user mxctl does not
// manage, and a notifications key besides `room`. Every managed key is
// spelled out, so the write must equal it but for the changed level.
nlohmann::json observed_content() {
  return {
      {"users", {{k_bot, 100}, {k_alice, 50}, {"@stranger:other.org", 42}}},
      {"users_default", 0},
      {"events",
       {{"m.room.name", 50},
        {"m.room.power_levels", 100},
        {"m.room.history_visibility", 100},
        {"m.room.tombstone", 100},
        {"org.example.widget", 33}}},
      {"events_default", 0},
      {"state_default", 50},
      {"ban", 50},
      {"kick", 50},
      {"redact", 50},
      {"invite", 0},
      {"historical", 100},
      {"org.example.custom", 7},
      {"org.example.nested", {{"a", {1, 2}}, {"b", "text"}}},
      {"notifications", {{"room", 50}, {"org.example.ping", 20}}},
  };
}

model::Room desired_room() {
  model::Room room;
  room.key = "community/river/general";
  room.alias = "#mxctl.community.river.general:example.org";
  room.name = "General";
  room.room_version = "10";
  room.power_levels.users = {{k_bot, 100}, {k_alice, 50}};
  room.power_levels.events = {{"m.room.name", 50}, {"m.room.power_levels", 100},
                              {"m.room.history_visibility", 100}, {"m.room.tombstone", 100}};
  return room;
}

// The room as the server holds it: the desired room with `content` as its
// power levels, read the way the observer reads it.
model::ObservedState observed_with(const nlohmann::json& content) {
  model::ObservedState observed;
  model::ObservedRoom have;
  have.room_id = "!general:example.org";
  have.marker_key = "community/river/general";
  have.room = desired_room();
  have.room.power_levels = adapters::parse_power_levels(content);
  observed.rooms[have.marker_key] = have;
  return observed;
}

// The content mxctl writes when the desired state differs by `change`.
nlohmann::json written_content(const nlohmann::json& content, void (*change)(model::Room&)) {
  model::MatrixState desired;
  desired.rooms["community/river/general"] = desired_room();
  change(desired.rooms["community/river/general"]);
  model::DiffOptions options;
  options.bot_user_id = k_bot;
  model::Plan plan = model::diff(desired, observed_with(content), options);
  REQUIRE(plan.operations.size() == 1);
  const model::Operation& op = plan.operations[0];
  REQUIRE(op.field == model::StateField::power_levels);
  REQUIRE(op.power_levels.has_value());
  auto write = adapters::state_write(desired.rooms.at(op.room_key), op.field, "", &*op.power_levels,
                                     {{"community/river/general", "!general:example.org"}}, model::Settings{});
  REQUIRE(write);
  CHECK(write->type == "m.room.power_levels");
  return write->content;
}

}  // namespace

TEST_CASE("power levels write: a managed change keeps every key mxctl does not manage", "[room_events]") {
  nlohmann::json expected = observed_content();
  SECTION("a managed user's level") {
    expected["users"][k_alice] = 75;
    CHECK(written_content(observed_content(), [](model::Room& room) { room.power_levels.users[k_alice] = 75; }) ==
          expected);
  }
  SECTION("a threshold and a managed event type") {
    expected["ban"] = 60;
    expected["events"]["m.room.name"] = 100;
    CHECK(written_content(observed_content(), [](model::Room& room) {
            room.power_levels.ban = 60;
            room.power_levels.events["m.room.name"] = 100;
          }) == expected);
  }
  SECTION("the written event is still a valid m.room.power_levels") {
    nlohmann::json content =
        written_content(observed_content(), [](model::Room& room) { room.power_levels.users[k_alice] = 75; });
    nlohmann::json event = {{"type", "m.room.power_levels"}, {"state_key", ""},     {"content", content},
                            {"event_id", "$e:example.org"},  {"sender", k_bot},     {"origin_server_ts", 1},
                            {"room_id", "!general:example.org"}};
    CHECK(spec::validate(event, spec::event_schema("m.room.power_levels")).empty());
  }
}

TEST_CASE("power levels write: the reader keeps only the keys it has no field for", "[room_events]") {
  SECTION("unknown keys and other notifications, as canonical JSON text") {
    model::PowerLevels levels = adapters::parse_power_levels(observed_content());
    CHECK(nlohmann::json::parse(levels.unmanaged) ==
          nlohmann::json{{"historical", 100},
                         {"org.example.custom", 7},
                         {"org.example.nested", {{"a", {1, 2}}, {"b", "text"}}},
                         {"notifications", {{"org.example.ping", 20}}}});
    CHECK(levels.events.at("org.example.widget") == 33);
    CHECK(levels.users.at("@stranger:other.org") == 42);
  }
  SECTION("nothing unknown, nothing kept: the desired state's levels compare equal") {
    nlohmann::json content = adapters::to_json(desired_room().power_levels);
    model::PowerLevels levels = adapters::parse_power_levels(content);
    CHECK(levels.unmanaged.empty());
    CHECK(levels == desired_room().power_levels);
  }
  SECTION("a managed key never takes its value from the unmanaged text") {
    model::PowerLevels levels;
    levels.ban = 70;
    levels.unmanaged = R"({"ban": 1, "notifications": {"room": 1, "x": 2}, "y": 3})";
    nlohmann::json content = adapters::to_json(levels);
    CHECK(content["ban"] == 70);
    CHECK(content["notifications"] == nlohmann::json{{"room", 50}, {"x", 2}});
    CHECK(content["y"] == 3);
  }
  SECTION("a room that reads back unchanged plans no write") {
    model::MatrixState desired;
    desired.rooms["community/river/general"] = desired_room();
    model::DiffOptions options;
    options.bot_user_id = k_bot;
    CHECK(model::diff(desired, observed_with(observed_content()), options).operations.empty());
  }
}

}  // namespace power_levels_write_test
