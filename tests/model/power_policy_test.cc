// PowerPolicy's trust table, and how the compiler turns policies, trust and
// roles into each room's m.room.power_levels.

#include <catch2/catch.hpp>

#include "model/compile.h"
#include "model/settings.h"
#include "model/topology.h"
#include "tests/model/topology_builders.h"

namespace model::power_policy_test {
namespace {

TEST_CASE("power policy: ft17 is named default with FT-17's table and thresholds", "[power_policy]") {
  const PowerPolicy policy = PowerPolicy::ft17();
  CHECK(policy.name == "default");
  CHECK(policy.bands == std::vector<TrustBand>{{0, 0}, {5, 10}, {15, 25}, {30, 50}});
  CHECK(policy.admin_level == 100);
  CHECK(policy.chair_level == 50);
  CHECK(policy.invite == 25);
  CHECK(policy.kick == 50);
  CHECK(policy.ban == 50);
  CHECK(policy.redact == 50);
  CHECK(policy.events_default == 0);
  CHECK(policy.state_default == 50);
}

TEST_CASE("power policy: trust 0 to 4 maps to 0", "[power_policy]") {
  const PowerPolicy policy = PowerPolicy::ft17();
  CHECK(policy.level_for_trust(0) == 0);
  CHECK(policy.level_for_trust(4) == 0);
}

TEST_CASE("power policy: trust 4 maps to 0 and 5 to 10", "[power_policy]") {
  const PowerPolicy policy = PowerPolicy::ft17();
  CHECK(policy.level_for_trust(4) == 0);
  CHECK(policy.level_for_trust(5) == 10);
}

TEST_CASE("power policy: trust 14 maps to 10 and 15 to 25", "[power_policy]") {
  const PowerPolicy policy = PowerPolicy::ft17();
  CHECK(policy.level_for_trust(14) == 10);
  CHECK(policy.level_for_trust(15) == 25);
}

TEST_CASE("power policy: trust 29 maps to 25 and 30 to 50", "[power_policy]") {
  const PowerPolicy policy = PowerPolicy::ft17();
  CHECK(policy.level_for_trust(29) == 25);
  CHECK(policy.level_for_trust(30) == 50);
}

TEST_CASE("power policy: trust above 30 stays at 50", "[power_policy]") {
  const PowerPolicy policy = PowerPolicy::ft17();
  CHECK(policy.level_for_trust(31) == 50);
  CHECK(policy.level_for_trust(1000) == 50);
}

TEST_CASE("power policy: negative trust counts as 0", "[power_policy]") {
  const PowerPolicy policy = PowerPolicy::ft17();
  CHECK(policy.level_for_trust(-1) == 0);
  CHECK(policy.level_for_trust(-100) == 0);
}

TEST_CASE("power policy: admin role maps to 100 whatever the trust", "[power_policy]") {
  const PowerPolicy policy = PowerPolicy::ft17();
  CHECK(policy.level_for(0, CommunityRole::admin) == 100);
  CHECK(policy.level_for(4, CommunityRole::admin) == 100);
  CHECK(policy.level_for(30, CommunityRole::admin) == 100);
  CHECK(policy.level_for(1000, CommunityRole::admin) == 100);
}

TEST_CASE("power policy: member role maps by trust at every boundary", "[power_policy]") {
  const PowerPolicy policy = PowerPolicy::ft17();
  CHECK(policy.level_for(0, CommunityRole::member) == 0);
  CHECK(policy.level_for(4, CommunityRole::member) == 0);
  CHECK(policy.level_for(5, CommunityRole::member) == 10);
  CHECK(policy.level_for(14, CommunityRole::member) == 10);
  CHECK(policy.level_for(15, CommunityRole::member) == 25);
  CHECK(policy.level_for(29, CommunityRole::member) == 25);
  CHECK(policy.level_for(30, CommunityRole::member) == 50);
}

TEST_CASE("power policy: custom bands and admin level are honoured", "[power_policy]") {
  PowerPolicy policy;
  policy.name = "strict";
  policy.bands = {{0, 0}, {50, 20}, {80, 60}};
  policy.admin_level = 90;
  CHECK(policy.level_for_trust(49) == 0);
  CHECK(policy.level_for_trust(50) == 20);
  CHECK(policy.level_for_trust(79) == 20);
  CHECK(policy.level_for_trust(80) == 60);
  CHECK(policy.level_for(10, CommunityRole::admin) == 90);
  CHECK(policy.level_for(80, CommunityRole::member) == 60);
}

TEST_CASE("power policy: a default-constructed policy has FT-17's table", "[power_policy]") {
  const PowerPolicy policy;
  CHECK(policy.bands == PowerPolicy::ft17().bands);
  CHECK(policy.name.empty());
}

// --- compiled power levels -------------------------------------------------

using namespace test_builders;

Topology one_community(const std::vector<CommunityMember>& members) {
  Topology topology;
  Community community;
  community.name = "c";
  community.display_name = "C";
  community.members = members;
  for (const CommunityMember& m : members) {
    topology.users.push_back(make_user(m.user));
  }
  topology.communities = {community};
  return topology;
}

PowerLevels levels_of(const MatrixState& state, const std::string& key) {
  INFO("room " << key);
  REQUIRE(state.rooms.count(key) == 1);
  return state.rooms.at(key).power_levels;
}

TEST_CASE("compile: every trust boundary lands in the community rooms' users map", "[compile][power_policy]") {
  const Topology topology = one_community({member("t0", 0), member("t4", 4), member("t5", 5), member("t14", 14),
                                           member("t15", 15), member("t29", 29), member("t30", 30),
                                           member("t99", 99), member("adm", 0, CommunityRole::admin)});
  const MatrixState state = compile(topology, example_settings());

  // Level 0 members (t0, t4) are omitted: they equal users_default.
  const std::map<std::string, int> want = {{k_bot, 100},
                                           {"@t5:example.org", 10},
                                           {"@t14:example.org", 10},
                                           {"@t15:example.org", 25},
                                           {"@t29:example.org", 25},
                                           {"@t30:example.org", 50},
                                           {"@t99:example.org", 50},
                                           {"@adm:example.org", 100}};
  for (const char* key : {"community/c", "community/c/general"}) {
    const PowerLevels levels = levels_of(state, key);
    CHECK(levels.users == want);
    CHECK(levels.level_of("@t0:example.org") == 0);
    CHECK(levels.level_of("@t4:example.org") == 0);
  }
  CHECK(state.rooms.at("community/c").members.size() == 9);
}

TEST_CASE("compile: thresholds and owned event types come from policy and settings", "[compile][power_policy]") {
  Settings settings = example_settings();
  settings.marker_event_type = "org.example.marker";
  const PowerLevels levels = levels_of(compile(one_community({}), settings), "community/c");

  PowerLevels want;
  want.invite = 25;
  want.kick = 50;
  want.ban = 50;
  want.redact = 50;
  want.events_default = 0;
  want.state_default = 50;
  want.users_default = 0;
  want.notifications_room = 50;
  want.users = {{k_bot, 100}};
  want.events = {{"m.room.power_levels", 100}, {"m.room.encryption", 100}, {"m.room.history_visibility", 100},
                 {"m.room.join_rules", 100},   {"m.room.tombstone", 100},  {"m.room.server_acl", 100},
                 {"m.space.child", 100},       {"m.space.parent", 100},    {"org.example.marker", 100},
                 {"m.room.name", 100},         {"m.room.topic", 100},      {"m.room.avatar", 100},
                 {"m.room.canonical_alias", 100}};
  CHECK(levels.events == want.events);
  CHECK(levels == want);
  CHECK(base_power_levels(PowerPolicy::ft17(), settings) == want);
  CHECK(controller_owned_events(settings) == want.events);
}

TEST_CASE("compile: an empty bot user id adds no user entry", "[compile][power_policy]") {
  Settings settings = example_settings();
  settings.bot_user_id = "";
  CHECK(base_power_levels(PowerPolicy::ft17(), settings).users.empty());
}

TEST_CASE("compile: a community's named policy sets levels and thresholds", "[compile][power_policy]") {
  Topology topology = one_community({member("low", 49), member("mid", 50), member("adm", 0, CommunityRole::admin)});
  PowerPolicy strict;
  strict.name = "strict";
  strict.bands = {{0, 0}, {50, 20}};
  strict.admin_level = 90;
  strict.invite = 20;
  strict.kick = 60;
  strict.ban = 70;
  strict.redact = 40;
  strict.events_default = 5;
  strict.state_default = 80;
  topology.power_policies = {PowerPolicy::ft17(), strict};
  topology.communities[0].power_policy = "strict";

  const PowerLevels levels = levels_of(compile(topology, example_settings()), "community/c/general");
  CHECK(levels.users == std::map<std::string, int>{{k_bot, 100}, {"@mid:example.org", 20}, {"@adm:example.org", 90}});
  CHECK(levels.invite == 20);
  CHECK(levels.kick == 60);
  CHECK(levels.ban == 70);
  CHECK(levels.redact == 40);
  CHECK(levels.events_default == 5);
  CHECK(levels.state_default == 80);
  CHECK(levels.users_default == 0);
}

TEST_CASE("compile: an empty policy name uses a declared default policy, else FT-17", "[compile][power_policy]") {
  Topology topology = one_community({member("a", 5)});
  SECTION("no policies declared: FT-17") {
    CHECK(levels_of(compile(topology, example_settings()), "community/c").users.at("@a:example.org") == 10);
    CHECK(resolve_power_policy(topology, "").bands == PowerPolicy::ft17().bands);
  }
  SECTION("a policy named default is declared") {
    PowerPolicy custom_default;
    custom_default.name = "default";
    custom_default.bands = {{0, 1}, {5, 33}};
    custom_default.invite = 33;
    topology.power_policies = {custom_default};
    const PowerLevels levels = levels_of(compile(topology, example_settings()), "community/c");
    CHECK(levels.users.at("@a:example.org") == 33);
    CHECK(levels.invite == 33);
    CHECK(resolve_power_policy(topology, "").name == "default");
    CHECK(resolve_power_policy(topology, "unknown").name == "default");
  }
}

TEST_CASE("compile: council levels are the community level raised to chair_level for chairs",
          "[compile][power_policy]") {
  Topology topology = one_community(
      {member("newbie", 0), member("mod", 30), member("adm", 0, CommunityRole::admin), member("keen", 15)});
  topology.users.push_back(make_user("outsider"));
  topology.users.push_back(make_user("outside-chair"));
  Council council;
  council.name = "k";
  council.community = "c";
  council.members = {{"newbie", CouncilRole::chair, {}},  {"mod", CouncilRole::member, {}},
                     {"adm", CouncilRole::chair, {}},     {"keen", CouncilRole::member, {}},
                     {"outsider", CouncilRole::member, {}}, {"outside-chair", CouncilRole::chair, {}}};
  topology.councils = {council};
  SECTION("FT-17 chair level 50") {
    const std::map<std::string, int> want = {{k_bot, 100},
                                             {"@newbie:example.org", 50},
                                             {"@mod:example.org", 50},
                                             {"@adm:example.org", 100},
                                             {"@keen:example.org", 25},
                                             {"@outside-chair:example.org", 50}};
    const MatrixState state = compile(topology, example_settings());
    CHECK(levels_of(state, "council/k").users == want);
    CHECK(levels_of(state, "council/k/discussion").users == want);
    CHECK(state.rooms.at("council/k").members.count("@outsider:example.org") == 1);
  }
  SECTION("a custom policy's chair level and thresholds apply to its councils") {
    PowerPolicy policy;
    policy.name = "p";
    policy.chair_level = 75;
    policy.kick = 75;
    topology.power_policies = {policy};
    topology.communities[0].power_policy = "p";
    const PowerLevels levels = levels_of(compile(topology, example_settings()), "council/k/discussion");
    CHECK(levels.users.at("@newbie:example.org") == 75);
    CHECK(levels.users.at("@mod:example.org") == 50);  // not a chair: community level only
    CHECK(levels.users.at("@adm:example.org") == 100);
    CHECK(levels.kick == 75);
  }
}

TEST_CASE("compile: coordination rooms put participants at 0 under the default policy", "[compile][power_policy]") {
  Topology topology = one_community({member("a", 30, CommunityRole::admin), member("b", 30)});
  CoordinationRoom dm;
  dm.name = "r";
  dm.between = {"a", "b"};
  topology.coordination_rooms = {dm};
  SECTION("FT-17 thresholds; community levels do not follow people into DMs") {
    const PowerLevels levels = levels_of(compile(topology, example_settings()), "dm/r");
    CHECK(levels == base_power_levels(PowerPolicy::ft17(), example_settings()));
    CHECK(levels.level_of("@a:example.org") == 0);
    CHECK(levels.level_of("@b:example.org") == 0);
  }
  SECTION("a declared default policy sets the thresholds") {
    PowerPolicy custom_default;
    custom_default.name = "default";
    custom_default.invite = 10;
    topology.power_policies = {custom_default};
    CHECK(levels_of(compile(topology, example_settings()), "dm/r").invite == 10);
  }
}

TEST_CASE("compile: linked accounts share their user's level, the higher path wins", "[compile][power_policy]") {
  Topology topology = one_community({member("a", 15), member("b", 30)});
  topology.users[0].linked_accounts = {"@a:kiwi.example.net", "@b:example.org"};
  const PowerLevels levels = levels_of(compile(topology, example_settings()), "community/c");
  CHECK(levels.users == std::map<std::string, int>{{k_bot, 100},
                                                   {"@a:example.org", 25},
                                                   {"@a:kiwi.example.net", 25},
                                                   {"@b:example.org", 50}});
}

TEST_CASE("compile: a bot listed as member or linked account stays at 100", "[compile][power_policy]") {
  Topology topology = one_community({member("mxctl", 0), member("a", 5)});
  topology.users[1].linked_accounts = {k_bot};
  const MatrixState state = compile(topology, example_settings());
  CHECK(levels_of(state, "community/c").users.at(k_bot) == 100);
  CHECK(state.rooms.at("community/c").members.count(k_bot) == 1);
}

}  // namespace
}  // namespace model::power_policy_test
