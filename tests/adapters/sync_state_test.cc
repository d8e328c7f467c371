#include <catch2/catch.hpp>

#include "adapters/sync_state.h"

namespace {

nlohmann::json state_event(const std::string& type, const std::string& key, nlohmann::json content) {
  return {{"type", type}, {"state_key", key}, {"content", std::move(content)}, {"event_id", "$" + type + key}};
}

}  // namespace

TEST_CASE("sync state: an initial sync gives every room in full", "[sync_state]") {
  nlohmann::json sync = {
      {"rooms",
       {{"join",
         {{"!a:x", {{"state", {{"events", {state_event("m.room.name", "", {{"name", "A"}})}}}}}},
          {"!b:x", {{"state", {{"events", nlohmann::json::array()}}}}}}}}}};
  adapters::RoomStates states;
  adapters::SyncChanges changes = adapters::apply_sync(sync, states);
  CHECK(changes.updated == std::set<std::string>{"!a:x", "!b:x"});
  CHECK(states.at("!a:x").at({"m.room.name", ""})["content"]["name"] == "A");
  CHECK(states.at("!b:x").empty());
}

TEST_CASE("sync state: incremental answers replace, add and remove", "[sync_state]") {
  adapters::RoomStates states;
  states["!a:x"][{"m.room.name", ""}] = state_event("m.room.name", "", {{"name", "A"}});
  states["!a:x"][{"m.room.topic", ""}] = state_event("m.room.topic", "", {{"topic", "t"}});
  states["!gone:x"][{"m.room.name", ""}] = state_event("m.room.name", "", {{"name", "G"}});
  nlohmann::json sync = {
      {"rooms",
       {{"join",
         {{"!a:x",
           {{"state", {{"events", {state_event("m.room.name", "", {{"name", "A2"}})}}}},
            {"timeline",
             {{"events",
               {state_event("m.room.member", "@u:x", {{"membership", "join"}}),
                {{"type", "m.room.message"}, {"content", {{"body", "hi"}}}}}}}}}}}},
        {"leave", {{"!gone:x", nlohmann::json::object()}}}}}};
  adapters::SyncChanges changes = adapters::apply_sync(sync, states);
  CHECK(changes.updated == std::set<std::string>{"!a:x"});
  CHECK(changes.removed == std::set<std::string>{"!gone:x"});
  CHECK(states.count("!gone:x") == 0);
  const auto& room = states.at("!a:x");
  CHECK(room.size() == 3);  // name replaced, topic kept, member added; the message ignored
  CHECK(room.at({"m.room.name", ""})["content"]["name"] == "A2");
  CHECK(room.at({"m.room.topic", ""})["content"]["topic"] == "t");
  CHECK(room.at({"m.room.member", "@u:x"})["content"]["membership"] == "join");
  SECTION("an answer with nothing new changes nothing") {
    adapters::SyncChanges none = adapters::apply_sync({{"next_batch", "s9"}}, states);
    CHECK(none.updated.empty());
    CHECK(none.removed.empty());
  }
}

TEST_CASE("sync state: snapshots round-trip and junk is refused", "[sync_state]") {
  adapters::RoomStates states;
  states["!a:x"][{"m.room.name", ""}] = state_event("m.room.name", "", {{"name", "A"}});
  auto back = adapters::parse_snapshot(adapters::snapshot_text(states["!a:x"]));
  REQUIRE(back);
  CHECK(*back == states["!a:x"]);
  CHECK_FALSE(adapters::parse_snapshot("{\"not\": \"an array\"}"));
  CHECK_FALSE(adapters::parse_snapshot("garbage"));
}
