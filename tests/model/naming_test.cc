#include "model/naming.h"

#include <catch2/catch.hpp>

#include "model/settings.h"
#include "model/topology.h"

namespace model::naming_test {
namespace {

Settings example_settings() {
  Settings settings;
  settings.server_name = "example.org";
  settings.bot_user_id = "@mxctl:example.org";
  return settings;
}

TEST_CASE("naming: user id is @localpart:server_name", "[naming]") {
  const Settings settings = example_settings();
  CHECK(user_id_for("alice", settings) == "@alice:example.org");
  CHECK(user_id_for("550e8400-e29b-41d4-a716-446655440000", settings) ==
        "@550e8400-e29b-41d4-a716-446655440000:example.org");
}

TEST_CASE("naming: a user's id uses its localpart, else its name", "[naming]") {
  const Settings settings = example_settings();
  User user;
  user.name = "alice";
  SECTION("localpart given") {
    user.localpart = "alice.smith";
    CHECK(user_id_for(user, settings) == "@alice.smith:example.org");
  }
  SECTION("localpart empty") {
    CHECK(user_id_for(user, settings) == "@alice:example.org");
  }
}

TEST_CASE("naming: room keys follow the kind/name[/sub] scheme", "[naming]") {
  CHECK(community_space_key("riverside") == "community/riverside");
  CHECK(community_general_key("riverside") == "community/riverside/general");
  CHECK(council_space_key("disputes") == "council/disputes");
  CHECK(council_discussion_key("disputes") == "council/disputes/discussion");
  CHECK(coordination_room_key("request-8841") == "dm/request-8841");
}

TEST_CASE("naming: dotted key replaces every slash", "[naming]") {
  CHECK(dotted_key("community/riverside/general") == "community.riverside.general");
  CHECK(dotted_key("dm/request-8841") == "dm.request-8841");
  CHECK(dotted_key("plain") == "plain");
  CHECK(dotted_key("") == "");
}

TEST_CASE("naming: alias is #prefix + dotted key : server_name", "[naming]") {
  Settings settings = example_settings();
  SECTION("default prefix") {
    CHECK(alias_for("community/riverside/general", settings) == "#mxctl.community.riverside.general:example.org");
    CHECK(alias_localpart_for("community/riverside/general", settings) == "mxctl.community.riverside.general");
    CHECK(alias_for("council/disputes", settings) == "#mxctl.council.disputes:example.org");
    CHECK(alias_for("dm/request-8841", settings) == "#mxctl.dm.request-8841:example.org");
  }
  SECTION("custom prefix and server") {
    settings.alias_prefix = "coop_";
    settings.server_name = "communities.example.com";
    CHECK(alias_for("community/riverside", settings) == "#coop_community.riverside:communities.example.com");
    CHECK(alias_localpart_for("community/riverside", settings) == "coop_community.riverside");
  }
  SECTION("empty prefix") {
    settings.alias_prefix = "";
    CHECK(alias_for("community/riverside", settings) == "#community.riverside:example.org");
  }
}

TEST_CASE("naming: alias is the localpart wrapped in # and :server_name", "[naming]") {
  const Settings settings = example_settings();
  for (const char* key : {"community/a", "community/a/general", "council/b", "council/b/discussion", "dm/c"}) {
    CHECK(alias_for(key, settings) == "#" + alias_localpart_for(key, settings) + ":example.org");
  }
}

TEST_CASE("naming: once txn id derives from key and purpose only", "[naming]") {
  CHECK(once_txn_id("dm/request-8841", "context") == "mxctl.dm.request-8841.context");
  CHECK(once_txn_id("council/disputes/discussion", "welcome") == "mxctl.council.disputes.discussion.welcome");
  // Same inputs, same id: a retried send is deduplicated by the homeserver.
  CHECK(once_txn_id("dm/a", "context") == once_txn_id("dm/a", "context"));
  CHECK(once_txn_id("dm/a", "context") != once_txn_id("dm/b", "context"));
}

TEST_CASE("naming: a room key's kind is read from the segment its constructor wrote", "[naming]") {
  CHECK(room_key_kind(community_space_key("river")) == RoomKeyKind::community);
  CHECK(room_key_kind(community_general_key("river")) == RoomKeyKind::community);
  CHECK(room_key_kind(council_space_key("disputes")) == RoomKeyKind::council);
  CHECK(room_key_kind(council_discussion_key("disputes")) == RoomKeyKind::council);
  CHECK(room_key_kind(coordination_room_key("request-8841")) == RoomKeyKind::coordination);
  for (const char* key : {"", "council", "dm", "councils/x", "Council/x", "x/council/y", "/dm"}) {
    CHECK(room_key_kind(key) == RoomKeyKind::other);
  }
}

TEST_CASE("naming: plan addresses name a room or an account by its key", "[naming]") {
  CHECK(room_address("community/riverside") == "room.community/riverside");
  CHECK(account_address("alice") == "account.alice");
  CHECK(address_kind("room.community/riverside") == AddressKind::room);
  CHECK(address_kind("account.alice") == AddressKind::account);
  CHECK(address_key("room.community/riverside") == "community/riverside");
  CHECK(address_key("account.alice") == "alice");
  SECTION("the key round-trips, whatever it holds") {
    for (const std::string key : {"", "a.b", "room.x", "account.y"}) {
      CHECK(address_kind(room_address(key)) == AddressKind::room);
      CHECK(address_key(room_address(key)) == key);
      CHECK(address_kind(account_address(key)) == AddressKind::account);
      CHECK(address_key(account_address(key)) == key);
    }
  }
  SECTION("anything else is no address") {
    for (const char* text : {"", "room", "rooms.x", "user.alice", "Room.x", " room.x"}) {
      CHECK(address_kind(text) == AddressKind::none);
      CHECK(address_key(text).empty());
    }
  }
}

}  // namespace
}  // namespace model::naming_test
