#include "model/limits.h"

#include <catch2/catch.hpp>

#include "model/compile.h"
#include "model/validate.h"
#include "tests/model/topology_builders.h"

namespace limits_test {

namespace {

using model::SourceLocation;
using model::Topology;
using model::test_builders::example_settings;
using model::test_builders::make_user;
using model::test_builders::member;
using model::test_builders::seat;
using Lines = std::vector<std::string>;

Lines lines(const model::Diagnostics& diagnostics) {
  Lines out;
  for (const model::Diagnostic& diagnostic : diagnostics) {
    out.push_back(diagnostic.to_string());
  }
  return out;
}

// A user as the YAML loader records it: every field at a line of users.yaml.
model::User user_at(const std::string& name, int line) {
  model::User user = make_user(name);
  user.origin.object = {"users.yaml", line, 1};
  user.origin.fields["metadata.name"] = {"users.yaml", line + 1, 9};
  user.origin.fields["spec.displayName"] = {"users.yaml", line + 3, 16};
  user.origin.fields["spec.avatarUrl"] = {"users.yaml", line + 4, 14};
  return user;
}

model::Community community_at(const std::string& name, int line) {
  model::Community community;
  community.name = name;
  community.display_name = "Riverside";
  community.origin.object = {"communities.yaml", line, 1};
  community.origin.fields["metadata.name"] = {"communities.yaml", line + 1, 9};
  community.origin.fields["spec.name"] = {"communities.yaml", line + 3, 9};
  community.origin.fields["spec.topic"] = {"communities.yaml", line + 4, 10};
  community.origin.fields["spec.members"] = {"communities.yaml", line + 5, 5};
  return community;
}

Topology small() {
  Topology topology;
  topology.users = {user_at("alice", 1), user_at("bob", 10)};
  topology.communities = {community_at("riverside", 1)};
  topology.communities[0].members = {member("alice", 40), member("bob", 4)};
  return topology;
}

// The m.room.name content compile writes for the room's name, archived.
std::size_t archived_name_content(const model::Room& room) {
  return model::json_string_bytes("name") + model::json_string_bytes(model::archived_form(room).name) + 3;
}

}  // namespace

TEST_CASE("limits: JSON string sizes count escapes as canonical JSON writes them", "[limits]") {
  CHECK(model::json_string_bytes("") == 2);
  CHECK(model::json_string_bytes("abc") == 5);
  CHECK(model::json_string_bytes("a\"b\\c") == 9);
  CHECK(model::json_string_bytes("\x1b") == 8);
  // UTF-8 is written as it is: "é" is two bytes.
  CHECK(model::json_string_bytes("\xc3\xa9") == 4);
}

TEST_CASE("limits: display names follow Synapse's 256 characters, avatar URLs its 1000", "[limits]") {
  Topology topology = small();
  // 256 characters of two bytes each are fine: Synapse counts characters.
  std::string accented;
  for (int i = 0; i < 256; ++i) {
    accented += "\xc3\xa9";
  }
  topology.users[0].display_name = accented;
  CHECK(lines(model::validate_topology(topology)) == Lines{});
  topology.users[0].display_name = std::string(257, 'a');
  topology.users[1].display_name = std::string(1 << 20, 'b');
  topology.users[1].avatar_url = "mxc://example.org/" + std::string(983, 'x');
  CHECK(lines(model::validate_topology(topology)) ==
        Lines{"users.yaml:4:16: user \"alice\": displayName is 257 characters long; Synapse accepts at most 256",
              "users.yaml:13:16: user \"bob\": displayName is 1048576 characters long; Synapse accepts at most 256",
              "users.yaml:14:14: user \"bob\": avatarUrl is 1001 characters long; Synapse accepts at most 1000"});
}

TEST_CASE("limits: names and topics must fit their event, suffixes included", "[limits]") {
  Topology topology = small();
  model::Community& riverside = topology.communities[0];
  // The longest name compile makes from it: the general room's default name, archived.
  const std::string suffixes = " General (archived)";
  const std::size_t overhead = model::json_string_bytes("name") + 2 + 3 + suffixes.size();
  riverside.display_name = std::string(model::k_max_content_bytes - overhead, 'r');
  REQUIRE(lines(model::validate_topology(topology)) == Lines{});
  // What compile really writes fits, archived or not.
  const model::MatrixState state = model::compile(topology, example_settings());
  for (const auto& [key, room] : state.rooms) {
    INFO(key);
    CHECK(archived_name_content(room) <= model::k_max_content_bytes);
  }
  CHECK(archived_name_content(state.rooms.at("community/riverside/general")) == model::k_max_content_bytes);

  riverside.display_name += "r";
  riverside.topic = std::string(70000, 't');
  CHECK(lines(model::validate_topology(topology)) ==
        Lines{"communities.yaml:4:9: community \"riverside\": name is too long for an m.room.name event (61441 bytes "
              "of content, at most 61440 fit in a 65536-byte event)",
              "communities.yaml:5:10: community \"riverside\": topic is too long for an m.room.topic event (70012 "
              "bytes of content, at most 61440 fit in a 65536-byte event)"});
}

TEST_CASE("limits: a council's name is checked as its discussion room's, archived", "[limits]") {
  Topology topology = small();
  model::Council council;
  council.name = "disputes";
  council.community = "riverside";
  council.origin.object = {"councils.yaml", 1, 1};
  const std::size_t overhead = model::json_string_bytes("name") + 2 + 3 + std::string(" Discussion (archived)").size();
  council.display_name = std::string(model::k_max_content_bytes - overhead, 'd');
  topology.councils.push_back(council);
  REQUIRE(lines(model::validate_topology(topology)) == Lines{});
  const model::MatrixState state = model::compile(topology, example_settings());
  CHECK(archived_name_content(state.rooms.at("council/disputes/discussion")) == model::k_max_content_bytes);
  topology.councils[0].display_name += "d";
  CHECK(lines(model::validate_topology(topology)) ==
        Lines{"councils.yaml:1:1: council \"disputes\": name is too long for an m.room.name event (61441 bytes of "
              "content, at most 61440 fit in a 65536-byte event)"});
}

TEST_CASE("limits: a coordination room's request and message fit their events", "[limits]") {
  Topology topology = small();
  model::CoordinationRoom dm;
  dm.name = "request-1";
  dm.between = {"alice", "bob"};
  dm.request = "1";
  dm.origin.object = {"coordination.yaml", 1, 1};
  dm.origin.fields["spec.request"] = {"coordination.yaml", 6, 12};
  dm.origin.fields["spec.message"] = {"coordination.yaml", 7, 12};
  topology.coordination_rooms.push_back(dm);
  REQUIRE(lines(model::validate_topology(topology)) == Lines{});
  SECTION("a request too long for the room's name") {
    topology.coordination_rooms[0].request = std::string(61420, '1');
    CHECK(lines(model::validate_topology(topology)) ==
          Lines{"coordination.yaml:6:12: coordination room \"request-1\": request is too long for an m.room.name "
                "event (61450 bytes of content, at most 61440 fit in a 65536-byte event)"});
  }
  SECTION("a message too long for one event; its lines are fine") {
    topology.coordination_rooms[0].message = "line one\nline two\n" + std::string(65536, 'm');
    CHECK(lines(model::validate_topology(topology)) ==
          Lines{"coordination.yaml:7:12: coordination room \"request-1\": message is too long for an m.room.message "
                "event (65594 bytes of content, at most 61440 fit in a 65536-byte event)"});
  }
}

TEST_CASE("limits: text that is not UTF-8 is rejected", "[limits]") {
  Topology topology = small();
  topology.communities[0].display_name = "River\xff";
  CHECK(lines(model::validate_topology(topology)) ==
        Lines{"communities.yaml:4:9: community \"riverside\": invalid name: is not valid UTF-8 (byte 0xFF at offset "
              "5)"});
}

TEST_CASE("limits: user IDs and aliases are at most 255 bytes with the server's name", "[limits]") {
  Topology topology = small();
  model::Settings settings = example_settings();
  REQUIRE(lines(model::check_limits(topology, settings)) == Lines{});
  SECTION("a localpart given: reported there") {
    // "@" + 243 + ":example.org" = 256 bytes.
    topology.users[0].localpart = std::string(243, 'a');
    topology.users[0].origin.fields["spec.localpart"] = {"users.yaml", 3, 14};
    const std::string shown = "\"@" + std::string(79, 'a') + "\"…";
    CHECK(lines(model::check_limits(topology, settings)) ==
          Lines{"users.yaml:3:14: user \"alice\": user id " + shown + " would be 256 bytes long; the spec allows at "
                "most 255"});
    topology.users[0].localpart = std::string(242, 'a');
    CHECK(lines(model::check_limits(topology, settings)) == Lines{});
  }
  SECTION("the key as localpart: reported at the key") {
    topology.users[0].name = topology.users[0].localpart = std::string(300, 'a');
    topology.communities[0].members[0].user = topology.users[0].name;
    REQUIRE(lines(model::check_limits(topology, settings)).size() == 1);
    CHECK(lines(model::check_limits(topology, settings))[0].starts_with("users.yaml:2:9: user \"aaaa"));
  }
  SECTION("without a server name, what is certainly too long") {
    topology.users[0].localpart = std::string(254, 'a');
    CHECK(lines(model::check_limits(topology, model::Settings{})).size() == 1);
  }
  SECTION("a long key or alias prefix makes the alias too long") {
    // "#mxctl.community." + key + ".general:example.org" (37 bytes besides the key).
    topology.communities[0].name = std::string(219, 'r');
    CHECK(lines(model::check_limits(topology, settings)) ==
          Lines{"communities.yaml:2:9: community \"" + std::string(219, 'r') + "\": the alias \"#mxctl.community." +
                std::string(63, 'r') + "\"… would be 256 bytes long; the spec allows at most 255 (shorten the name "
                "or aliasPrefix)"});
    topology.communities[0].name = "riverside";
    settings.alias_prefix = std::string(230, 'p');
    CHECK(lines(model::check_limits(topology, settings)).size() == 1);
  }
}

TEST_CASE("limits: power levels must fit one event, whatever the number of members at level 0", "[limits]") {
  Topology topology = small();
  model::Settings settings = example_settings();
  model::Community& riverside = topology.communities[0];
  for (int i = 0; i < 4000; ++i) {
    const std::string name = "member-" + std::to_string(i);
    topology.users.push_back(make_user(name));
    riverside.members.push_back(member(name, 0));
  }
  // 4000 members at users_default are not listed: nothing to check.
  CHECK(lines(model::check_limits(topology, settings)) == Lines{});
  for (model::CommunityMember& m : riverside.members) {
    m.trust = 30;  // level 50: every one listed
  }
  CHECK(lines(model::check_limits(topology, settings)) ==
        Lines{"communities.yaml:6:5: community \"riverside\": too many members above level 0 for one "
              "m.room.power_levels event (4003 users, 127539 bytes of content, at most 61440)"});
  SECTION("a council's chairs are listed even at community level 0") {
    for (model::CommunityMember& m : riverside.members) {
      m.trust = 0;
    }
    model::Council council;
    council.name = "disputes";
    council.community = "riverside";
    council.origin.object = {"councils.yaml", 1, 1};
    for (int i = 0; i < 4000; ++i) {
      council.members.push_back(seat("member-" + std::to_string(i), model::CouncilRole::chair));
    }
    topology.councils.push_back(council);
    CHECK(lines(model::check_limits(topology, settings)) ==
          Lines{"councils.yaml:1:1: council \"disputes\": too many members above level 0 for one "
                "m.room.power_levels event (4001 users, 127489 bytes of content, at most 61440)"});
  }
}

TEST_CASE("limits: power levels too large to write are always refused", "[limits]") {
  Topology topology = small();
  const model::Settings settings = example_settings();
  // Members (each with a linked account) are added until the content
  // compile writes is over the limit: by then check_limits must refuse.
  std::size_t written = 0;
  for (int i = 0; written <= model::k_max_content_bytes; ++i) {
    const std::string name = "member-" + std::to_string(i);
    topology.users.push_back(make_user(name));
    topology.users.back().linked_accounts = {"@" + name + ":elsewhere.example"};
    topology.communities[0].members.push_back(member(name, 30 + i % 70));
    if (i % 50 != 0 && written + 200 <= model::k_max_content_bytes) {
      continue;  // far from the limit: measure again later
    }
    const model::PowerLevels levels =
        model::compile(topology, settings).rooms.at("community/riverside").power_levels;
    // The compiled content as canonical JSON, counted low: the fixed keys
    // as they would be written with the smallest values.
    written = std::string(R"({"ban":0,"events":{},"events_default":0,"invite":0,"kick":0,)"
                          R"("notifications":{"room":0},"redact":0,"state_default":0,"users":{},"users_default":0})")
                  .size();
    for (const auto& [type, level] : levels.events) {
      written += model::json_string_bytes(type) + 1 + std::to_string(level).size() + 1;
    }
    for (const auto& [user, level] : levels.users) {
      written += model::json_string_bytes(user) + 1 + std::to_string(level).size() + 1;
    }
  }
  const Lines refused = lines(model::check_limits(topology, settings));
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].find("too many members above level 0 for one m.room.power_levels event") != std::string::npos);
}

}  // namespace limits_test
