// The desired-state compiler's room structure, membership, accounts, room
// versions and archived forms. How trust, roles and policies land in power
// levels is in power_policy_test.cc.

#include "model/compile.h"

#include <catch2/catch.hpp>

#include "model/settings.h"
#include "model/topology.h"
#include "tests/model/topology_builders.h"

namespace model::compile_test {
namespace {

using namespace test_builders;

/// Riverside: alice (trust 30), bob (trust 5), carol (admin), one council
/// "disputes" chaired by bob with alice as member.
Topology riverside() {
  Topology topology;
  topology.users = {make_user("alice"), make_user("bob"), make_user("carol")};
  Community community;
  community.name = "riverside";
  community.display_name = "Riverside Commons";
  community.topic = "Neighbours sharing tools";
  community.avatar_url = "mxc://example.org/river";
  community.members = {member("alice", 30), member("bob", 5), member("carol", 0, CommunityRole::admin)};
  topology.communities = {community};
  Council council;
  council.name = "disputes";
  council.community = "riverside";
  council.display_name = "Dispute Resolution Council";
  council.topic = "Cases in confidence";
  council.members = {seat("alice"), seat("bob", CouncilRole::chair)};
  topology.councils = {council};
  return topology;
}

std::map<std::string, int> owned_events() {
  return {{"m.room.power_levels", 100}, {"m.room.encryption", 100}, {"m.room.history_visibility", 100},
          {"m.room.join_rules", 100},   {"m.room.tombstone", 100},  {"m.room.server_acl", 100},
          {"m.space.child", 100},       {"m.space.parent", 100},    {"org.mxctl.managed", 100},
          {"m.room.name", 100},         {"m.room.topic", 100},      {"m.room.avatar", 100},
          {"m.room.canonical_alias", 100}};
}

/// FT-17 thresholds, the owned events, the bot at 100 plus `users`.
PowerLevels ft17_levels(std::map<std::string, int> users) {
  PowerLevels levels;
  levels.invite = 25;
  levels.kick = 50;
  levels.ban = 50;
  levels.redact = 50;
  levels.events_default = 0;
  levels.state_default = 50;
  levels.users_default = 0;
  levels.events = owned_events();
  levels.users = std::move(users);
  levels.users[k_bot] = 100;
  return levels;
}

SpaceLink link(const std::string& key) { return SpaceLink{key, {"example.org"}, true}; }

std::vector<std::string> keys_of(const std::vector<SpaceLink>& links) {
  std::vector<std::string> keys;
  for (const SpaceLink& l : links) {
    keys.push_back(l.key);
  }
  return keys;
}

std::vector<std::string> keys_of(const MatrixState& state) {
  std::vector<std::string> keys;
  for (const auto& [key, room] : state.rooms) {
    keys.push_back(key);
  }
  return keys;
}

Room room_at(const MatrixState& state, const std::string& key) {
  INFO("room " << key);
  REQUIRE(state.rooms.count(key) == 1);
  return state.rooms.at(key);
}

/// Field by field so a failure names the field, then the whole struct so a
/// field added later cannot slip through.
void check_same_room(const Room& actual, const Room& expected) {
  INFO("room " << expected.key);
  CHECK(actual.key == expected.key);
  CHECK(actual.alias == expected.alias);
  CHECK(actual.kind == expected.kind);
  CHECK(actual.name == expected.name);
  CHECK(actual.topic == expected.topic);
  CHECK(actual.avatar_url == expected.avatar_url);
  CHECK(to_string(actual.join_rule) == std::string(to_string(expected.join_rule)));
  CHECK(actual.allow_spaces == expected.allow_spaces);
  CHECK(to_string(actual.history_visibility) == std::string(to_string(expected.history_visibility)));
  CHECK(actual.guests_forbidden == expected.guests_forbidden);
  CHECK(actual.encrypted == expected.encrypted);
  CHECK(actual.power_levels.users == expected.power_levels.users);
  CHECK(actual.power_levels.events == expected.power_levels.events);
  CHECK(actual.power_levels == expected.power_levels);
  CHECK(keys_of(actual.children) == keys_of(expected.children));
  CHECK(actual.children == expected.children);
  CHECK(actual.parent == expected.parent);
  CHECK(actual.members == expected.members);
  CHECK(actual.room_version == expected.room_version);
  CHECK(actual.is_direct == expected.is_direct);
  CHECK(actual.once_message == expected.once_message);
  CHECK(actual.archived == expected.archived);
  CHECK(actual == expected);
}

TEST_CASE("compile: one account per user with copied fields", "[compile]") {
  Topology topology;
  User alice = make_user("alice");
  alice.localpart = "alice.smith";
  alice.display_name = "Alice Smith";
  alice.avatar_url = "mxc://example.org/alice";
  alice.admin = true;
  alice.linked_accounts = {"@alice:kiwi.example.net", "@alice:litchi.example.net"};
  User bob = make_user("bob");
  bob.deactivated = true;
  User nolocal;
  nolocal.name = "dave";
  topology.users = {alice, bob, nolocal};

  const MatrixState state = compile(topology, example_settings());

  Account want_alice{"alice",
                     "@alice.smith:example.org",
                     "alice.smith",
                     "Alice Smith",
                     "mxc://example.org/alice",
                     true,
                     AccountStatus::active,
                     {"@alice:kiwi.example.net", "@alice:litchi.example.net"}};
  Account want_bob{"bob", "@bob:example.org", "bob", std::nullopt, std::nullopt, false, AccountStatus::suspended,
                   {}};
  Account want_dave{"dave", "@dave:example.org", "dave", std::nullopt, std::nullopt, false, AccountStatus::active,
                    {}};
  REQUIRE(state.accounts.size() == 3);
  CHECK(state.accounts.at("alice") == want_alice);
  CHECK(state.accounts.at("bob") == want_bob);
  CHECK(state.accounts.at("dave") == want_dave);
  CHECK(state.rooms.empty());
}

TEST_CASE("compile: community space is the invite-only root of its hierarchy", "[compile]") {
  const MatrixState state = compile(riverside(), example_settings());

  Room want;
  want.key = "community/riverside";
  want.alias = "#mxctl.community.riverside:example.org";
  want.kind = RoomKind::space;
  want.name = "Riverside Commons";
  want.topic = "Neighbours sharing tools";
  want.avatar_url = "mxc://example.org/river";
  want.join_rule = JoinRule::invite;
  want.history_visibility = HistoryVisibility::shared;
  want.encrypted = false;
  want.power_levels =
      ft17_levels({{"@alice:example.org", 50}, {"@bob:example.org", 10}, {"@carol:example.org", 100}});
  want.children = {link("community/riverside/general"), link("council/disputes")};
  want.members = {"@alice:example.org", "@bob:example.org", "@carol:example.org"};
  want.room_version = "10";
  check_same_room(room_at(state, "community/riverside"), want);
}

TEST_CASE("compile: general room is restricted to the community space", "[compile]") {
  const MatrixState state = compile(riverside(), example_settings());

  Room want;
  want.key = "community/riverside/general";
  want.alias = "#mxctl.community.riverside.general:example.org";
  want.kind = RoomKind::room;
  want.name = "Riverside Commons General";
  want.join_rule = JoinRule::restricted;
  want.allow_spaces = {"community/riverside"};
  want.history_visibility = HistoryVisibility::shared;
  want.encrypted = false;
  want.power_levels =
      ft17_levels({{"@alice:example.org", 50}, {"@bob:example.org", 10}, {"@carol:example.org", 100}});
  want.parent = link("community/riverside");
  want.members = {"@alice:example.org", "@bob:example.org", "@carol:example.org"};
  want.room_version = "10";
  check_same_room(room_at(state, "community/riverside/general"), want);
}

TEST_CASE("compile: general room name, topic and encryption come from the declaration", "[compile]") {
  Topology topology = riverside();
  SECTION("declared") {
    topology.communities[0].general_room = GeneralRoom{"Riverside Chat", "Say hello", true};
    const Room general = room_at(compile(topology, example_settings()), "community/riverside/general");
    CHECK(general.name == "Riverside Chat");
    CHECK(general.topic == "Say hello");
    CHECK(general.encrypted);
  }
  SECTION("display name missing falls back to the key name") {
    topology.communities[0].display_name = "";
    const MatrixState state = compile(topology, example_settings());
    CHECK(room_at(state, "community/riverside").name == "riverside");
    CHECK(room_at(state, "community/riverside/general").name == "riverside General");
  }
}

TEST_CASE("compile: council space is an encrypted invite-only child of the community", "[compile]") {
  const MatrixState state = compile(riverside(), example_settings());

  Room want;
  want.key = "council/disputes";
  want.alias = "#mxctl.council.disputes:example.org";
  want.kind = RoomKind::space;
  want.name = "Dispute Resolution Council";
  want.topic = "Cases in confidence";
  want.join_rule = JoinRule::invite;
  want.history_visibility = HistoryVisibility::invited;
  want.guests_forbidden = true;  // councils and coordination rooms keep guests out
  want.encrypted = true;
  // alice keeps her community 50; bob's chair seat raises his 10 to 50.
  want.power_levels = ft17_levels({{"@alice:example.org", 50}, {"@bob:example.org", 50}});
  want.children = {link("council/disputes/discussion")};
  want.parent = link("community/riverside");
  want.members = {"@alice:example.org", "@bob:example.org"};
  want.room_version = "10";
  check_same_room(room_at(state, "council/disputes"), want);
}

TEST_CASE("compile: council discussion is restricted to the council space", "[compile]") {
  const MatrixState state = compile(riverside(), example_settings());

  Room want;
  want.key = "council/disputes/discussion";
  want.alias = "#mxctl.council.disputes.discussion:example.org";
  want.kind = RoomKind::room;
  want.name = "Dispute Resolution Council Discussion";
  want.topic = "Cases in confidence";
  want.join_rule = JoinRule::restricted;
  want.allow_spaces = {"council/disputes"};
  want.history_visibility = HistoryVisibility::invited;
  want.guests_forbidden = true;  // councils and coordination rooms keep guests out
  want.encrypted = true;
  want.power_levels = ft17_levels({{"@alice:example.org", 50}, {"@bob:example.org", 50}});
  want.parent = link("council/disputes");
  want.members = {"@alice:example.org", "@bob:example.org"};
  want.room_version = "10";
  check_same_room(room_at(state, "council/disputes/discussion"), want);
}

TEST_CASE("compile: council rooms are encrypted even if declared otherwise", "[compile]") {
  Topology topology = riverside();
  topology.councils[0].encrypted = false;
  const MatrixState state = compile(topology, example_settings());
  CHECK(room_at(state, "council/disputes").encrypted);
  CHECK(room_at(state, "council/disputes/discussion").encrypted);
}

TEST_CASE("compile: community children are the general room and council spaces sorted by key", "[compile]") {
  Topology topology = riverside();
  Council zoning = topology.councils[0];
  zoning.name = "zoning";
  Council budget = topology.councils[0];
  budget.name = "budget";
  topology.councils = {zoning, topology.councils[0], budget};

  const MatrixState state = compile(topology, example_settings());
  CHECK(keys_of(room_at(state, "community/riverside").children) ==
        std::vector<std::string>{"community/riverside/general", "council/budget", "council/disputes",
                                 "council/zoning"});
  for (const char* key : {"council/budget", "council/disputes", "council/zoning"}) {
    CHECK(room_at(state, key).parent == link("community/riverside"));
  }
  SECTION("declaration order does not change the result") {
    std::reverse(topology.councils.begin(), topology.councils.end());
    CHECK(compile(topology, example_settings()) == state);
  }
}

TEST_CASE("compile: coordination room is an encrypted direct invite-only room", "[compile]") {
  Topology topology = riverside();
  CoordinationRoom dm;
  dm.name = "request-8841";
  dm.between = {"alice", "bob"};
  dm.request = "8841";
  dm.message = "Request accepted! Coordinate delivery for: https://app.example.org/requests/8841";
  topology.coordination_rooms = {dm};

  const MatrixState state = compile(topology, example_settings());

  Room want;
  want.key = "dm/request-8841";
  want.alias = "#mxctl.dm.request-8841:example.org";
  want.kind = RoomKind::room;
  want.name = "Request 8841";
  want.topic = "Coordinate delivery for request 8841";
  want.join_rule = JoinRule::invite;
  want.history_visibility = HistoryVisibility::shared;
  want.guests_forbidden = true;  // councils and coordination rooms keep guests out
  want.encrypted = true;
  want.power_levels = ft17_levels({});
  want.members = {"@alice:example.org", "@bob:example.org"};
  want.room_version = "10";
  want.is_direct = true;
  want.once_message =
      OnceMessage{"mxctl.dm.request-8841.context",
                  "Request accepted! Coordinate delivery for: https://app.example.org/requests/8841"};
  check_same_room(room_at(state, "dm/request-8841"), want);
}

TEST_CASE("compile: coordination room defaults name, topic and message from the request", "[compile]") {
  Topology topology;
  topology.users = {make_user("alice"), make_user("bob")};
  CoordinationRoom dm;
  dm.name = "table";
  dm.between = {"alice", "bob"};
  dm.encrypted = false;
  SECTION("request given, message empty") {
    dm.request = "https://app.example.org/requests/12";
    topology.coordination_rooms = {dm};
    const Room room = room_at(compile(topology, example_settings()), "dm/table");
    CHECK(room.name == "Request https://app.example.org/requests/12");
    CHECK(room.topic == "Coordinate delivery for request https://app.example.org/requests/12");
    CHECK(room.once_message ==
          OnceMessage{"mxctl.dm.table.context",
                      "Request accepted! Coordinate delivery for: https://app.example.org/requests/12"});
    CHECK(room.encrypted);
  }
  SECTION("no request: the room's name stands in") {
    topology.coordination_rooms = {dm};
    const Room room = room_at(compile(topology, example_settings()), "dm/table");
    CHECK(room.name == "Request table");
    CHECK(room.topic == "Coordinate delivery for request table");
  }
}

TEST_CASE("compile: matrixEnabled false produces no rooms for the community or its councils", "[compile]") {
  Topology topology = riverside();
  topology.communities[0].matrix_enabled = false;
  const MatrixState state = compile(topology, example_settings());
  CHECK(state.rooms.empty());
  CHECK(state.accounts.size() == 3);
}

TEST_CASE("compile: members are full MXIDs of active users plus their linked accounts", "[compile]") {
  Topology topology = riverside();
  topology.users[0].linked_accounts = {"@alice:kiwi.example.net"};
  topology.users[1].deactivated = true;
  topology.users[1].linked_accounts = {"@bob:litchi.example.net"};
  topology.communities[0].members.push_back(member("ghost", 40));
  CoordinationRoom dm;
  dm.name = "r1";
  dm.between = {"alice", "bob"};
  topology.coordination_rooms = {dm};

  const MatrixState state = compile(topology, example_settings());

  const std::set<std::string> community = {"@alice:example.org", "@alice:kiwi.example.net", "@carol:example.org"};
  CHECK(room_at(state, "community/riverside").members == community);
  CHECK(room_at(state, "community/riverside/general").members == community);
  const std::set<std::string> council = {"@alice:example.org", "@alice:kiwi.example.net"};
  CHECK(room_at(state, "council/disputes").members == council);
  CHECK(room_at(state, "council/disputes/discussion").members == council);
  CHECK(room_at(state, "dm/r1").members == council);

  SECTION("linked accounts get their user's level; deactivated users get none") {
    const std::map<std::string, int> want = {
        {k_bot, 100}, {"@alice:example.org", 50}, {"@alice:kiwi.example.net", 50}, {"@carol:example.org", 100}};
    CHECK(room_at(state, "community/riverside").power_levels.users == want);
    CHECK(room_at(state, "council/disputes/discussion").power_levels.users ==
          std::map<std::string, int>{{k_bot, 100}, {"@alice:example.org", 50}, {"@alice:kiwi.example.net", 50}});
  }
  SECTION("the deactivated user keeps a suspended account") {
    CHECK(state.accounts.at("bob").status == AccountStatus::suspended);
  }
}

TEST_CASE("compile: a user reached by more than one path keeps the highest level", "[compile]") {
  Topology topology = riverside();
  // carol (admin, 100) is also alice's (50) linked account; alice is bob's
  // (10); the bot's own account is a member at 10.
  topology.users[0].linked_accounts = {"@carol:example.org"};
  topology.users[1].linked_accounts = {"@alice:example.org"};
  topology.users.push_back(make_user("mxctl"));
  topology.communities[0].members.push_back(member("mxctl", 5));

  const MatrixState state = compile(topology, example_settings());
  const std::map<std::string, int> want = {{k_bot, 100},
                                           {"@alice:example.org", 50},
                                           {"@bob:example.org", 10},
                                           {"@carol:example.org", 100}};
  CHECK(room_at(state, "community/riverside").power_levels.users == want);
  CHECK(room_at(state, "community/riverside/general").power_levels.users == want);
  CHECK(room_at(state, "community/riverside").members ==
        std::set<std::string>{"@alice:example.org", "@bob:example.org", "@carol:example.org", k_bot});
  // bob chairs the council (50); alice is his linked account and a member at 50.
  CHECK(room_at(state, "council/disputes").power_levels.users ==
        std::map<std::string, int>{{k_bot, 100}, {"@alice:example.org", 50}, {"@bob:example.org", 50},
                                   {"@carol:example.org", 50}});
}

TEST_CASE("compile: councils belong to the first community declared under their community's name", "[compile]") {
  Topology topology = riverside();
  Community twin = topology.communities[0];
  twin.display_name = "Twin";
  topology.communities.insert(topology.communities.begin(), twin);
  topology.communities[0].matrix_enabled = false;
  Council second = topology.councils[0];
  second.name = "appeals";
  topology.councils.push_back(second);

  SECTION("the first declaration has no Matrix presence: nor do the councils") {
    const MatrixState state = compile(topology, example_settings());
    CHECK(state.rooms.empty());
  }
  SECTION("the first declaration owns every council naming it, in key order") {
    topology.communities[0].matrix_enabled = true;
    const MatrixState state = compile(topology, example_settings());
    CHECK(room_at(state, "community/riverside").name == "Twin");
    CHECK(keys_of(room_at(state, "community/riverside").children) ==
          std::vector<std::string>{"community/riverside/general", "council/appeals", "council/disputes"});
  }
}

TEST_CASE("compile: the bot is at 100 in every room without being a member", "[compile]") {
  Topology topology = riverside();
  topology.communities[0].members.clear();
  topology.councils[0].members.clear();
  const MatrixState state = compile(topology, example_settings());
  REQUIRE(state.rooms.size() == 4);
  for (const auto& [key, room] : state.rooms) {
    INFO(key);
    CHECK(room.members.empty());
    CHECK(room.power_levels.users == std::map<std::string, int>{{k_bot, 100}});
  }
}

TEST_CASE("compile: restricted rooms get version 10 when the configured version is below 9", "[compile]") {
  Settings settings = example_settings();
  Topology topology = riverside();
  CoordinationRoom dm;
  dm.name = "r1";
  dm.between = {"alice", "bob"};
  topology.coordination_rooms = {dm};

  auto versions = [&] {
    std::map<std::string, std::string> out;
    for (const auto& [key, room] : compile(topology, settings).rooms) {
      out[key] = room.room_version;
    }
    return out;
  };
  SECTION("numeric 8: restricted rooms bumped, invite-only rooms kept") {
    settings.room_version = "8";
    CHECK(versions() == std::map<std::string, std::string>{{"community/riverside", "8"},
                                                           {"community/riverside/general", "10"},
                                                           {"council/disputes", "8"},
                                                           {"council/disputes/discussion", "10"},
                                                           {"dm/r1", "8"}});
  }
  SECTION("numeric 9 and above are kept") {
    settings.room_version = "9";
    CHECK(room_version_for(JoinRule::restricted, settings) == "9");
    settings.room_version = "11";
    CHECK(room_version_for(JoinRule::restricted, settings) == "11");
  }
  SECTION("custom and empty versions are kept") {
    settings.room_version = "org.example.custom.1";
    CHECK(room_version_for(JoinRule::restricted, settings) == "org.example.custom.1");
    settings.room_version = "";
    CHECK(room_version_for(JoinRule::restricted, settings) == "");
  }
  SECTION("old versions stay for invite rooms") {
    settings.room_version = "1";
    CHECK(room_version_for(JoinRule::invite, settings) == "1");
    CHECK(room_version_for(JoinRule::restricted, settings) == "10");
  }
}

TEST_CASE("compile: archived form closes posting, marks the name and stops restricted joins", "[compile]") {
  Room live = compile(riverside(), example_settings()).rooms.at("community/riverside/general");
  Room want = live;
  want.archived = true;
  want.name = "Riverside Commons General (archived)";
  want.join_rule = JoinRule::invite;
  want.allow_spaces.clear();
  want.power_levels.events_default = 100;
  check_same_room(archived_form(live), want);
  SECTION("archiving twice changes nothing more") {
    check_same_room(archived_form(archived_form(live)), want);
  }
}

TEST_CASE("compile: archived community archives its general room, councils and their rooms", "[compile]") {
  Topology topology = riverside();
  const MatrixState live = compile(topology, example_settings());
  topology.communities[0].archived = true;
  const MatrixState archived = compile(topology, example_settings());

  REQUIRE(keys_of(archived) == keys_of(live));
  for (const auto& [key, room] : live.rooms) {
    check_same_room(archived.rooms.at(key), archived_form(room));
  }
  // The room version of a restricted room stays as created, not as its archived join rule would pick.
  Settings old = example_settings();
  old.room_version = "7";
  CHECK(compile(topology, old).rooms.at("community/riverside/general").room_version == "10");
}

TEST_CASE("compile: archived council archives only the council's rooms", "[compile]") {
  Topology topology = riverside();
  const MatrixState live = compile(topology, example_settings());
  topology.councils[0].archived = true;
  const MatrixState state = compile(topology, example_settings());

  check_same_room(state.rooms.at("community/riverside"), live.rooms.at("community/riverside"));
  check_same_room(state.rooms.at("community/riverside/general"), live.rooms.at("community/riverside/general"));
  check_same_room(state.rooms.at("council/disputes"), archived_form(live.rooms.at("council/disputes")));
  check_same_room(state.rooms.at("council/disputes/discussion"),
                  archived_form(live.rooms.at("council/disputes/discussion")));
  CHECK(state.rooms.at("council/disputes").name == "Dispute Resolution Council (archived)");
}

TEST_CASE("compile: archived coordination room keeps members and its message", "[compile]") {
  Topology topology = riverside();
  CoordinationRoom dm;
  dm.name = "r1";
  dm.between = {"alice", "bob"};
  dm.request = "1";
  topology.coordination_rooms = {dm};
  const Room live = compile(topology, example_settings()).rooms.at("dm/r1");
  topology.coordination_rooms[0].archived = true;
  const Room room = room_at(compile(topology, example_settings()), "dm/r1");
  check_same_room(room, archived_form(live));
  CHECK(room.name == "Request 1 (archived)");
  CHECK(room.members == live.members);
  CHECK(room.once_message == live.once_message);
}

TEST_CASE("compile: dangling references are skipped", "[compile]") {
  Topology topology = riverside();
  Council orphan = topology.councils[0];
  orphan.name = "orphan";
  orphan.community = "nowhere";
  topology.councils.push_back(orphan);
  topology.councils[0].members.push_back(seat("nobody", CouncilRole::chair));
  CoordinationRoom dm;
  dm.name = "r1";
  dm.between = {"alice", "nobody"};
  topology.coordination_rooms = {dm};
  topology.communities[0].power_policy = "missing";

  const MatrixState state = compile(topology, example_settings());
  CHECK(keys_of(state) == std::vector<std::string>{"community/riverside", "community/riverside/general",
                                                   "council/disputes", "council/disputes/discussion", "dm/r1"});
  CHECK(room_at(state, "council/disputes").members ==
        std::set<std::string>{"@alice:example.org", "@bob:example.org"});
  CHECK(room_at(state, "dm/r1").members == std::set<std::string>{"@alice:example.org"});
  // An unknown policy name falls back to FT-17.
  CHECK(room_at(state, "community/riverside").power_levels ==
        ft17_levels({{"@alice:example.org", 50}, {"@bob:example.org", 10}, {"@carol:example.org", 100}}));
}

TEST_CASE("compile: a duplicate key keeps the first declaration", "[compile]") {
  Topology topology = riverside();
  Community twin = topology.communities[0];
  twin.display_name = "Twin";
  topology.communities.push_back(twin);
  Council twin_council = topology.councils[0];
  twin_council.display_name = "Twin Council";
  topology.councils.push_back(twin_council);

  const MatrixState state = compile(topology, example_settings());
  CHECK(room_at(state, "community/riverside").name == "Riverside Commons");
  CHECK(room_at(state, "council/disputes").name == "Dispute Resolution Council");
  CHECK(keys_of(room_at(state, "community/riverside").children) ==
        std::vector<std::string>{"community/riverside/general", "council/disputes"});
}

TEST_CASE("compile: the same input always compiles to the same state", "[compile]") {
  const Topology topology = riverside();
  CHECK(compile(topology, example_settings()) == compile(topology, example_settings()));
}

}  // namespace
}  // namespace model::compile_test
