#include "adapters/manifests/yaml_manifests.h"

#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"

namespace yaml_manifests_test {

namespace {

using adapters::load_manifests;
using adapters::LoadedManifests;
using adapters::parse_manifests;
using Lines = std::vector<std::string>;

// Every diagnostic as the command line prints it, so tests compare exact text.
Lines messages(const LoadedManifests& loaded) {
  Lines out;
  for (const model::Diagnostic& diagnostic : loaded.diagnostics) {
    out.push_back(diagnostic.to_string());
  }
  return out;
}

Lines check(std::string_view text) { return messages(parse_manifests(text, "test.yaml")); }

// Users the semantic checks can refer to, appended after a document under test.
const std::string k_people = R"(---
apiVersion: mxctl/v1
kind: User
metadata: {name: alice}
---
apiVersion: mxctl/v1
kind: User
metadata: {name: bob}
---
apiVersion: mxctl/v1
kind: User
metadata: {name: carol}
)";

}  // namespace

TEST_CASE("manifests: the example instance loads without diagnostics", "[manifests]") {
  LoadedManifests loaded = load_manifests({std::string(MXCTL_SOURCE_DIR) + "/manifests/"});
  CHECK(messages(loaded) == Lines{});
  CHECK(loaded.files.size() == 5);
  CHECK(loaded.documents == 29);
  const model::Topology& topology = loaded.topology;
  CHECK(topology.users.size() == 20);
  CHECK(topology.communities.size() == 3);
  CHECK(topology.councils.size() == 3);
  CHECK(topology.coordination_rooms.size() == 2);
  CHECK(topology.power_policies.size() == 1);

  REQUIRE(topology.find_user("dana"));
  CHECK(topology.find_user("dana")->linked_accounts == Lines{"@dana:other.example"});
  REQUIRE(topology.find_user("oscar"));
  CHECK(topology.find_user("oscar")->deactivated);
  REQUIRE(topology.find_user("sybil"));
  CHECK(topology.find_user("sybil")->localpart == "sybil.r");
  REQUIRE(topology.find_community("harbor"));
  CHECK(topology.find_community("harbor")->general_room.encrypted);
  REQUIRE(topology.find_community("hilltop"));
  CHECK(topology.find_community("hilltop")->power_policy == "gentle");
  const auto& disputes = topology.councils.front();
  CHECK(disputes.name == "disputes");
  CHECK(disputes.display_name == "Dispute Resolution Council");
  CHECK(disputes.community == "riverside");
  const auto& request = topology.coordination_rooms.front();
  CHECK(request.name == "request-8841");
  CHECK(request.message == "Request accepted! Coordinate delivery for: https://communities.example.org/requests/8841");
}

TEST_CASE("manifests: the complete example in manifests/README.md is valid", "[manifests]") {
  std::ifstream stream(std::string(MXCTL_SOURCE_DIR) + "/manifests/README.md");
  std::stringstream readme;
  readme << stream.rdbuf();
  const std::string text = readme.str();
  const std::size_t section = text.find("## A complete example");
  REQUIRE(section != std::string::npos);
  const std::size_t start = text.find("```yaml\n", section);
  REQUIRE(start != std::string::npos);
  const std::size_t end = text.find("```", start + 8);
  REQUIRE(end != std::string::npos);
  LoadedManifests loaded = parse_manifests(text.substr(start + 8, end - start - 8), "README.md");
  CHECK(messages(loaded) == Lines{});
  CHECK(loaded.documents == 5);
}

TEST_CASE("manifests: every kind is read with its defaults", "[manifests]") {
  LoadedManifests loaded = parse_manifests(k_people + R"(---
apiVersion: mxctl/v1
kind: Community
metadata:
  name: riverside
spec:
  name: Riverside Commons
  members:
    - user: alice
      trust: 7
      role: admin
    - user: bob
---
apiVersion: mxctl/v1
kind: Council
metadata:
  name: disputes
spec:
  community: riverside
  name: Dispute Resolution Council
  members:
    - {user: alice, role: chair}
    - user: bob
---
apiVersion: mxctl/v1
kind: CoordinationRoom
metadata:
  name: request-8841
spec:
  between: [alice, bob]
  request: "8841"
---
apiVersion: mxctl/v1
kind: PowerPolicy
metadata:
  name: default
)",
                                           "test.yaml");
  REQUIRE(messages(loaded) == Lines{});
  CHECK(loaded.documents == 7);
  CHECK(loaded.files == Lines{"test.yaml"});
  const model::Topology& topology = loaded.topology;

  const model::User& alice = topology.users.at(0);
  CHECK(alice.localpart == "alice");
  CHECK_FALSE(alice.display_name);
  CHECK_FALSE(alice.admin);
  CHECK_FALSE(alice.deactivated);

  const model::Community& community = topology.communities.at(0);
  CHECK(community.display_name == "Riverside Commons");
  CHECK(community.matrix_enabled);
  CHECK_FALSE(community.general_room.encrypted);
  CHECK(community.power_policy.empty());
  REQUIRE(community.members.size() == 2);
  CHECK(community.members[0].trust == 7);
  CHECK(community.members[0].role == model::CommunityRole::admin);
  CHECK(community.members[1].trust == 0);
  CHECK(community.members[1].role == model::CommunityRole::member);

  const model::Council& council = topology.councils.at(0);
  CHECK(council.encrypted);
  REQUIRE(council.members.size() == 2);
  CHECK(council.members[0].role == model::CouncilRole::chair);
  CHECK(council.members[1].role == model::CouncilRole::member);

  const model::CoordinationRoom& room = topology.coordination_rooms.at(0);
  CHECK(room.between == Lines{"alice", "bob"});
  CHECK(room.encrypted);
  CHECK(room.message == "Request accepted! Coordinate delivery for: 8841");

  const model::PowerPolicy& policy = topology.power_policies.at(0);
  CHECK(policy.bands == model::PowerPolicy::ft17().bands);
  CHECK(policy.invite == 25);
}

TEST_CASE("manifests: positions are recorded for later checks", "[manifests]") {
  LoadedManifests loaded = parse_manifests(R"(apiVersion: mxctl/v1
kind: Community
metadata:
  name: riverside
spec:
  name: Riverside
  powerPolicy: calm
  members:
    - user: alice
      trust: 3
)",
                                           "c.yaml");
  REQUIRE(loaded.topology.communities.size() == 1);
  const model::Community& community = loaded.topology.communities[0];
  CHECK(community.origin.object.to_string() == "c.yaml:4:9");
  CHECK(community.origin.of("spec.powerPolicy").to_string() == "c.yaml:7:16");
  CHECK(community.origin.of("spec.members[0].user").to_string() == "c.yaml:9:13");
  REQUIRE(community.members.size() == 1);
  CHECK(community.members[0].origin.object.to_string() == "c.yaml:9:7");
  CHECK(community.members[0].origin.of("user").to_string() == "c.yaml:9:13");
  CHECK(community.members[0].origin.of("trust").to_string() == "c.yaml:10:14");
}

TEST_CASE("manifests: each member's positions are its own, past the tenth too", "[manifests]") {
  // "spec.members[1]." is a prefix of no path under "spec.members[10]".
  std::string text = "apiVersion: mxctl/v1\nkind: Council\nmetadata: {name: c}\nspec:\n  members:\n";
  for (int i = 0; i < 12; ++i) {
    text += "    - {user: u" + std::to_string(i) + (i == 10 ? ", role: chair" : "") + "}\n";
  }
  LoadedManifests loaded = parse_manifests(text, "c.yaml");
  REQUIRE(loaded.topology.councils.size() == 1);
  const model::Council& council = loaded.topology.councils[0];
  REQUIRE(council.members.size() == 12);
  CHECK(council.members[1].origin.fields.size() == 1);
  CHECK(council.members[1].origin.of("user").to_string() == "c.yaml:7:14");
  CHECK(council.members[10].origin.fields.size() == 2);
  CHECK(council.members[10].origin.of("role").to_string() == "c.yaml:16:25");
  CHECK(council.members[10].role == model::CouncilRole::chair);
  CHECK(council.origin.of("spec.members[10].user").to_string() == "c.yaml:16:14");
}

TEST_CASE("manifests: documents after comments and end markers keep their lines", "[manifests]") {
  CHECK(check(k_people + R"(# a comment that belongs to the next document
---
apiVersion: mxctl/v1
kind: User
metadata: {name: dave}
spec: {admn: true}
...
# after the end marker
apiVersion: mxctl/v1
kind: User
metadata: {name: erin}
spec: {displayName: Erin, topic: x, displayName: Erin R}
)") == Lines{
           "test.yaml:18:8: user \"dave\": unknown field \"admn\" (did you mean \"admin\"?)",
           "test.yaml:24:27: user \"erin\": unknown field \"topic\"",
           "test.yaml:24:37: user \"erin\": field \"displayName\" is given more than once (first at test.yaml:24:8)",
       });
}

TEST_CASE("manifests: anchors and aliases are followed", "[manifests]") {
  LoadedManifests loaded = parse_manifests(k_people + R"(---
apiVersion: mxctl/v1
kind: CoordinationRoom
metadata: {name: &name request-1}
spec:
  between: [alice, bob]
  request: *name
)",
                                           "test.yaml");
  CHECK(messages(loaded) == Lines{});
  REQUIRE(loaded.topology.coordination_rooms.size() == 1);
  CHECK(loaded.topology.coordination_rooms[0].request == "request-1");
  // An alias is the anchored node itself, position (the anchor's) included.
  CHECK(loaded.topology.coordination_rooms[0].origin.of("spec.request").to_string() == "test.yaml:16:18");
}

TEST_CASE("manifests: a yaml syntax error is reported and other documents are still checked", "[manifests]") {
  CHECK(check(R"(apiVersion: mxctl/v1
kind: User
metadata: {name: alice}
spec: {displayname: Alice}
---
apiVersion: mxctl/v1
kind: User
metadata: {name: [bob}
---
apiVersion: mxctl/v1
kind: User
metadata: {name: carol}
spec: {admn: true}
)") == Lines{
           "test.yaml:4:8: user \"alice\": unknown field \"displayname\" (did you mean \"displayName\"?)",
           "test.yaml:8:22: invalid yaml: illegal flow end",
           "test.yaml:13:8: user \"carol\": unknown field \"admn\" (did you mean \"admin\"?)",
       });
}

TEST_CASE("manifests: tab indentation gets a hint", "[manifests]") {
  CHECK(check("apiVersion: mxctl/v1\nkind: User\nmetadata:\n\tname: alice\n") ==
        Lines{"test.yaml:4:2: invalid yaml: indentation must use spaces, not tabs"});
  // Where yaml-cpp finds the tab first, its message gets the hint.
  CHECK(check("apiVersion: mxctl/v1\nkind: User\nmetadata:\n  name: alice\n\tspec: {}\n") ==
        Lines{"test.yaml:5:1: invalid yaml: illegal tab when looking for indentation (indentation must use spaces, "
              "not tabs)"});
}

TEST_CASE("manifests: unknown kind suggests the closest", "[manifests]") {
  CHECK(check(R"(apiVersion: mxctl/v1
kind: Comunity
metadata:
  name: riverside
)") == Lines{"test.yaml:2:7: document \"riverside\": unknown kind \"Comunity\" (did you mean \"Community\"?)"});
  CHECK(check("apiVersion: mxctl/v1\nkind: Room\nmetadata: {name: ops}\n") ==
        Lines{"test.yaml:2:7: document \"ops\": unknown kind \"Room\""});
}

TEST_CASE("manifests: apiVersion must be present and known", "[manifests]") {
  SECTION("missing") {
    CHECK(check("kind: User\nmetadata: {name: alice}\n") ==
          Lines{"test.yaml:1:1: user \"alice\": missing required field \"apiVersion\""});
  }
  SECTION("unknown") {
    CHECK(check("apiVersion: mxctl/v2\nkind: User\nmetadata: {name: alice}\n") ==
          Lines{"test.yaml:1:13: user \"alice\": unknown apiVersion \"mxctl/v2\" (expected \"mxctl/v1\")"});
  }
}

TEST_CASE("manifests: unknown field suggests the closest", "[manifests]") {
  CHECK(check(k_people + R"(---
apiVersion: mxctl/v1
kind: Community
metadata:
  name: riverside
  labels: {}
spec:
  name: Riverside
  topc: By the river
  generalRoom:
    encypted: true
  members:
    - user: alice
      trst: 5
specs: {}
)") == Lines{
           "test.yaml:18:3: community \"riverside\": unknown field \"metadata.labels\"",
           "test.yaml:21:3: community \"riverside\": unknown field \"topc\" (did you mean \"topic\"?)",
           "test.yaml:23:5: community \"riverside\": unknown field \"generalRoom.encypted\" (did you mean "
           "\"encrypted\"?)",
           "test.yaml:26:7: community \"riverside\": unknown field \"members[0].trst\" (did you mean \"trust\"?)",
           "test.yaml:27:1: community \"riverside\": unknown field \"specs\" (did you mean \"spec\"?)",
       });
}

TEST_CASE("manifests: a field given twice is reported", "[manifests]") {
  CHECK(check(R"(apiVersion: mxctl/v1
kind: User
metadata: {name: alice}
spec:
  displayName: Alice
  displayName: Alicia
)") == Lines{"test.yaml:6:3: user \"alice\": field \"displayName\" is given more than once (first at "
             "test.yaml:5:3)"});
}

TEST_CASE("manifests: missing required fields", "[manifests]") {
  SECTION("kind") {
    CHECK(check("apiVersion: mxctl/v1\nmetadata: {name: alice}\n") ==
          Lines{"test.yaml:1:1: document \"alice\": missing required field \"kind\""});
  }
  SECTION("metadata and metadata.name") {
    CHECK(check("apiVersion: mxctl/v1\nkind: User\n---\napiVersion: mxctl/v1\nkind: User\nmetadata: {}\n") ==
          Lines{
              "test.yaml:1:1: user: missing required field \"metadata\"",
              "test.yaml:6:11: user: missing required field \"metadata.name\"",
          });
  }
  SECTION("spec fields, checked semantically") {
    CHECK(check(R"(apiVersion: mxctl/v1
kind: Community
metadata: {name: riverside}
---
apiVersion: mxctl/v1
kind: Council
metadata: {name: disputes}
spec:
  topic: Cases
---
apiVersion: mxctl/v1
kind: CoordinationRoom
metadata: {name: request-1}
spec:
  between: [alice, bob]
)" + k_people) == Lines{
                      "test.yaml:3:18: community \"riverside\": missing required field \"name\"",
                      "test.yaml:7:18: council \"disputes\": missing required field \"community\"",
                      "test.yaml:7:18: council \"disputes\": missing required field \"name\"",
                      "test.yaml:13:18: coordination room \"request-1\": missing required field \"request\"",
                  });
  }
  SECTION("member user and band fields") {
    CHECK(check(R"(apiVersion: mxctl/v1
kind: Community
metadata: {name: riverside}
spec:
  name: Riverside
  members:
    - trust: 3
---
apiVersion: mxctl/v1
kind: PowerPolicy
metadata: {name: calm}
spec:
  bands:
    - minTrust: 0
)") == Lines{
           "test.yaml:7:7: community \"riverside\": a member is missing required field \"user\"",
           "test.yaml:14:7: power policy \"calm\": missing required field \"bands[0].level\"",
       });
  }
}

TEST_CASE("manifests: wrong types name the field and what was found", "[manifests]") {
  CHECK(check(k_people + R"(---
apiVersion: mxctl/v1
kind: Community
metadata: {name: riverside}
spec:
  name: [Riverside]
  matrixEnabled: yes
  archived: "false"
  generalRoom: General
  members:
    - user: alice
      trust: high
    - user: bob
      trust: 99999999999
    - user: carol
      role: moderator
    - bob
---
apiVersion: mxctl/v1
kind: User
metadata: {name: dana}
spec:
  linkedAccounts: "@dana:other.example"
---
apiVersion: mxctl/v1
kind: Council
metadata: {name: disputes}
spec:
  community: riverside
  name: Disputes
  members: {user: alice}
---
apiVersion: mxctl/v1
kind: User
metadata: {name: erin}
spec: erin
)") == Lines{
           "test.yaml:18:9: community \"riverside\": name must be a string, got a list",
           "test.yaml:19:18: community \"riverside\": matrixEnabled must be true or false, got \"yes\"",
           "test.yaml:20:13: community \"riverside\": archived must be true or false, got the string \"false\"",
           "test.yaml:21:16: community \"riverside\": generalRoom must be a mapping, got \"General\"",
           "test.yaml:24:14: community \"riverside\": members[0].trust must be an integer, got \"high\"",
           "test.yaml:26:14: community \"riverside\": members[1].trust is out of range, got 99999999999",
           "test.yaml:28:13: community \"riverside\": members[2].role must be \"member\" or \"admin\", got "
           "\"moderator\"",
           "test.yaml:29:7: community \"riverside\": members[3] must be a mapping, got \"bob\"",
           "test.yaml:35:19: user \"dana\": linkedAccounts must be a list, got the string \"@dana:other.example\"",
           "test.yaml:43:12: council \"disputes\": members must be a list, got a mapping",
           "test.yaml:48:7: user \"erin\": spec must be a mapping, got \"erin\"",
       });
}

TEST_CASE("manifests: a document must be a mapping", "[manifests]") {
  CHECK(check("- apiVersion: mxctl/v1\n") ==
        Lines{"test.yaml:1:1: document: expected a mapping with apiVersion, kind, metadata and spec, got a list"});
}

TEST_CASE("manifests: duplicate names within a kind point at the second", "[manifests]") {
  CHECK(check(k_people + R"(---
apiVersion: mxctl/v1
kind: User
metadata: {name: bob}
---
apiVersion: mxctl/v1
kind: Community
metadata: {name: bob}
spec: {name: Bob's place}
)") == Lines{"test.yaml:16:18: user \"bob\": already defined at test.yaml:8:18"});
}

TEST_CASE("manifests: duplicate localparts among users", "[manifests]") {
  CHECK(check(k_people + R"(---
apiVersion: mxctl/v1
kind: User
metadata: {name: robert}
spec:
  localpart: bob
)") == Lines{"test.yaml:18:14: user \"robert\": localpart \"bob\" is already used by user \"bob\" (test.yaml:8:18)"});
}

TEST_CASE("manifests: metadata.name must be a valid key", "[manifests]") {
  CHECK(
      check("apiVersion: mxctl/v1\nkind: User\nmetadata:\n  name: Alice_B\n") ==
      Lines{"test.yaml:4:9: user \"Alice_B\": invalid name: must start with a lower-case letter or digit, got \"A\""});
  CHECK(check("apiVersion: mxctl/v1\nkind: User\nmetadata:\n  name: [a]\n") ==
        Lines{"test.yaml:4:9: user: metadata.name must be a string, got a list"});
}

TEST_CASE("manifests: references to unknown objects suggest the closest", "[manifests]") {
  CHECK(check(k_people + R"(---
apiVersion: mxctl/v1
kind: Community
metadata: {name: riverside}
spec:
  name: Riverside
  powerPolicy: gentel
  members:
    - user: bobb
---
apiVersion: mxctl/v1
kind: Council
metadata: {name: disputes}
spec:
  community: riversid
  name: Disputes
---
apiVersion: mxctl/v1
kind: CoordinationRoom
metadata: {name: request-1}
spec:
  between: [alice, zed]
  request: "1"
---
apiVersion: mxctl/v1
kind: PowerPolicy
metadata: {name: gentle}
)") == Lines{
           "test.yaml:19:16: community \"riverside\": unknown power policy \"gentel\" (did you mean \"gentle\"?)",
           "test.yaml:21:13: community \"riverside\": unknown user \"bobb\" (did you mean \"bob\"?)",
           "test.yaml:27:14: council \"disputes\": unknown community \"riversid\" (did you mean \"riverside\"?)",
           "test.yaml:34:20: coordination room \"request-1\": unknown user \"zed\"",
       });
}

TEST_CASE("manifests: council members must belong to the community", "[manifests]") {
  CHECK(check(k_people + R"(---
apiVersion: mxctl/v1
kind: Community
metadata: {name: riverside}
spec:
  name: Riverside
  members:
    - user: alice
---
apiVersion: mxctl/v1
kind: Council
metadata: {name: disputes}
spec:
  community: riverside
  name: Disputes
  members:
    - user: alice
      role: chair
    - user: carol
    - user: alice
)") == Lines{
           "test.yaml:31:13: council \"disputes\": user \"carol\" is not a member of community \"riverside\"",
           "test.yaml:32:13: council \"disputes\": user \"alice\" is listed more than once in members (first at "
           "test.yaml:29:13)",
       });
}

TEST_CASE("manifests: trust must not be negative", "[manifests]") {
  CHECK(check(k_people + R"(---
apiVersion: mxctl/v1
kind: Community
metadata: {name: riverside}
spec:
  name: Riverside
  members:
    - {user: bob, trust: -3}
)") == Lines{"test.yaml:20:26: community \"riverside\": trust of \"bob\" must be 0 or more, got -3"});
}

TEST_CASE("manifests: localparts, linked accounts and avatars follow the matrix grammar", "[manifests]") {
  CHECK(check(R"(apiVersion: mxctl/v1
kind: User
metadata: {name: dana}
spec:
  localpart: Dana K
  avatarUrl: https://example.org/dana.png
  linkedAccounts:
    - "@dana:other.example"
    - dana@third.example
    - "@dana:other.example"
)") == Lines{
           "test.yaml:5:14: user \"dana\": invalid localpart \"Dana K\": contains \"D\"; only a-z, 0-9, \".\", "
           "\"_\", \"=\", \"-\", \"/\" and \"+\" are allowed",
           "test.yaml:6:14: user \"dana\": invalid avatarUrl \"https://example.org/dana.png\": must start with "
           "\"mxc://\"",
           "test.yaml:9:7: user \"dana\": invalid linked account \"dana@third.example\": must start with \"@\"",
           "test.yaml:10:7: user \"dana\": linked account \"@dana:other.example\" is listed twice",
       });
}

TEST_CASE("manifests: councils and coordination rooms cannot opt out of encryption", "[manifests]") {
  CHECK(check(k_people + R"(---
apiVersion: mxctl/v1
kind: Community
metadata: {name: riverside}
spec:
  name: Riverside
  generalRoom: {encrypted: false}
---
apiVersion: mxctl/v1
kind: Council
metadata: {name: disputes}
spec:
  community: riverside
  name: Disputes
  encrypted: false
---
apiVersion: mxctl/v1
kind: CoordinationRoom
metadata: {name: request-1}
spec:
  between: [alice, bob]
  request: "1"
  encrypted: false
)") == Lines{
           "test.yaml:27:14: council \"disputes\": councils are always end-to-end encrypted; encrypted: false is "
           "not allowed",
           "test.yaml:35:14: coordination room \"request-1\": coordination rooms are always end-to-end encrypted; "
           "encrypted: false is not allowed",
       });
}

TEST_CASE("manifests: a coordination room is between exactly two distinct users", "[manifests]") {
  CHECK(check(k_people + R"(---
apiVersion: mxctl/v1
kind: CoordinationRoom
metadata: {name: request-1}
spec:
  between: [alice, bob, carol]
  request: "1"
---
apiVersion: mxctl/v1
kind: CoordinationRoom
metadata: {name: request-2}
spec:
  between: [alice, alice]
  request: "2"
---
apiVersion: mxctl/v1
kind: CoordinationRoom
metadata: {name: request-3}
spec:
  request: "3"
)") == Lines{
           "test.yaml:18:12: coordination room \"request-1\": between must name exactly two users, got 3",
           "test.yaml:25:20: coordination room \"request-2\": between must name two different users, got \"alice\" "
           "twice",
           "test.yaml:30:18: coordination room \"request-3\": between must name exactly two users, got 0",
       });
}

TEST_CASE("manifests: power policy bands must start at 0 and ascend", "[manifests]") {
  CHECK(check(R"(apiVersion: mxctl/v1
kind: PowerPolicy
metadata: {name: odd}
spec:
  bands:
    - {minTrust: 2, level: 0}
    - {minTrust: 10, level: 120}
    - {minTrust: 10, level: 50}
  adminLevel: 150
  thresholds: {kick: -1}
---
apiVersion: mxctl/v1
kind: PowerPolicy
metadata: {name: empty}
spec:
  bands: []
)") == Lines{
           "test.yaml:6:18: power policy \"odd\": the first band must start at minTrust 0, got 2",
           "test.yaml:7:29: power policy \"odd\": band level must be between 0 and 100, got 120",
           "test.yaml:8:18: power policy \"odd\": bands must have strictly ascending minTrust, got 10 after 10",
           "test.yaml:9:15: power policy \"odd\": adminLevel must be between 0 and 100, got 150",
           "test.yaml:10:22: power policy \"odd\": thresholds.kick must be between 0 and 100, got -1",
           "test.yaml:16:10: power policy \"empty\": bands must not be empty",
       });
}

TEST_CASE("manifests: an empty manifest set is an error", "[manifests]") {
  SECTION("no text") {
    CHECK(check("") ==
          Lines{"test.yaml: no manifests found (expected *.yaml or *.yml files with at least one document)"});
  }
  SECTION("only comments and empty documents") {
    LoadedManifests loaded = parse_manifests("# nothing yet\n---\n...\n---\n", "test.yaml");
    CHECK(loaded.documents == 0);
    CHECK(messages(loaded) ==
          Lines{"test.yaml: no manifests found (expected *.yaml or *.yml files with at least one document)"});
  }
  SECTION("a directory without manifests") {
    testing_support::TempDir dir;
    dir.write("README.md", "# not a manifest\n");
    LoadedManifests loaded = load_manifests({dir.path().string()});
    CHECK(loaded.files.empty());
    CHECK(messages(loaded) ==
          Lines{dir.path().string() +
                ": no manifests found (expected *.yaml or *.yml files with at least one document)"});
  }
}

TEST_CASE("manifests: a path that does not exist is reported", "[manifests]") {
  testing_support::TempDir dir;
  const std::string missing = (dir.path() / "nope.yaml").string();
  CHECK(messages(load_manifests({missing})) == Lines{missing + ": no such file or directory"});
}

TEST_CASE("manifests: directories are walked in path order with paths as given", "[manifests]") {
  testing_support::TempDir dir;
  const std::string user = "apiVersion: mxctl/v1\nkind: User\nmetadata: {name: %}\n";
  auto user_named = [&](const std::string& name) {
    std::string text = user;
    return text.replace(text.find('%'), 1, name);
  };
  dir.write("set/b.yml", user_named("bob"));
  dir.write("set/a/z.yaml", user_named("alice") + "spec: {admn: true}\n");
  dir.write("set/c.yaml", user_named("carol"));
  dir.write("set/notes.txt", "not: yaml: at all: [");
  dir.write("set/.hidden/x.yaml", "not: yaml: at all: [");
  const std::string root = (dir.path() / "set").string() + "/";

  // c.yaml is also named on its own: it is read once, not reported as a duplicate.
  LoadedManifests loaded = load_manifests({root, root + "c.yaml"});
  CHECK(loaded.files == Lines{root + "a/z.yaml", root + "b.yml", root + "c.yaml"});
  CHECK(loaded.documents == 3);
  CHECK(messages(loaded) ==
        Lines{root + "a/z.yaml:4:8: user \"alice\": unknown field \"admn\" (did you mean \"admin\"?)"});
  REQUIRE(loaded.topology.users.size() == 3);
  CHECK(loaded.topology.users[0].name == "alice");
}

}  // namespace yaml_manifests_test
