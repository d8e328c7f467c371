#include "model/validate.h"

#include <catch2/catch.hpp>

namespace validate_test {

namespace {

using model::Origin;
using model::SourceLocation;
using model::Topology;
using Lines = std::vector<std::string>;

// Objects here come from a pretend app database: positions name a table row
// and have no line, which is how the database source reports them.
Origin row(const std::string& table, int id) {
  Origin origin;
  origin.object = SourceLocation{table + " row " + std::to_string(id), 0, 0};
  return origin;
}

SourceLocation cell(const std::string& table, int id, const std::string& column) {
  return SourceLocation{table + " row " + std::to_string(id) + " column " + column, 0, 0};
}

model::User user(const std::string& name, int id) {
  model::User out;
  out.name = name;
  out.localpart = name;
  out.origin = row("users", id);
  return out;
}

model::CommunityMember community_member(const std::string& name, int trust,
                                        model::CommunityRole role = model::CommunityRole::member) {
  model::CommunityMember out;
  out.user = name;
  out.trust = trust;
  out.role = role;
  out.origin = row("memberships", trust);
  out.origin.fields["user"] = cell("memberships", trust, "user");
  out.origin.fields["trust"] = cell("memberships", trust, "trust");
  return out;
}

model::CouncilMember council_member(const std::string& name, model::CouncilRole role = model::CouncilRole::member) {
  model::CouncilMember out;
  out.user = name;
  out.role = role;
  out.origin = row("council_members", static_cast<int>(name.size()));
  out.origin.fields["user"] = cell("council_members", static_cast<int>(name.size()), name);
  return out;
}

// A small valid topology that each test then breaks in one way.
Topology sample() {
  Topology topology;
  topology.users = {user("alice", 1), user("bob", 2), user("carol", 3)};
  model::Community riverside;
  riverside.name = "riverside";
  riverside.display_name = "Riverside Commons";
  riverside.origin = row("communities", 1);
  riverside.members = {community_member("alice", 40, model::CommunityRole::admin), community_member("bob", 4)};
  topology.communities.push_back(riverside);
  model::Council disputes;
  disputes.name = "disputes";
  disputes.community = "riverside";
  disputes.display_name = "Dispute Resolution Council";
  disputes.origin = row("councils", 1);
  disputes.members = {council_member("alice", model::CouncilRole::chair), council_member("bob")};
  topology.councils.push_back(disputes);
  model::CoordinationRoom request;
  request.name = "request-8841";
  request.between = {"bob", "carol"};
  request.request = "8841";
  request.origin = row("wealth_requests", 8841);
  topology.coordination_rooms.push_back(request);
  model::PowerPolicy gentle;
  gentle.name = "gentle";
  gentle.origin = row("power_policies", 1);
  topology.power_policies.push_back(gentle);
  return topology;
}

Lines check(const Topology& topology) {
  Lines out;
  for (const model::Diagnostic& diagnostic : model::validate_topology(topology)) {
    out.push_back(diagnostic.to_string());
  }
  return out;
}

}  // namespace

TEST_CASE("validate: a consistent topology has no diagnostics", "[validate]") {
  CHECK(check(sample()) == Lines{});
  CHECK(check(Topology{}) == Lines{});
}

TEST_CASE("validate: keys follow the key grammar", "[validate]") {
  Topology topology = sample();
  topology.communities[0].name = "River Side";
  topology.councils[0].community = "River Side";
  topology.power_policies[0].name = "";
  CHECK(check(topology) == Lines{
                               "communities row 1: community \"River Side\": invalid name: must start with a "
                               "lower-case letter or digit, got \"R\"",
                               "power_policies row 1: power policy \"\": invalid name: must not be empty",
                           });
}

TEST_CASE("validate: duplicate keys within a kind point at the second", "[validate]") {
  Topology topology = sample();
  topology.users.push_back(user("bob", 9));
  topology.users[3].localpart = "robert";
  model::Community bob;
  bob.name = "bob";
  bob.display_name = "Bob's";
  bob.origin = row("communities", 2);
  topology.communities.push_back(bob);
  // A user and a community may share a key; two users may not.
  CHECK(check(topology) == Lines{"users row 9: user \"bob\": already defined at users row 2"});
}

TEST_CASE("validate: localparts follow the grammar and are not shared", "[validate]") {
  Topology topology = sample();
  topology.users[0].localpart = "Alice";
  topology.users[0].origin.fields["spec.localpart"] = cell("users", 1, "localpart");
  topology.users[2].localpart = "bob";
  CHECK(check(topology) == Lines{
                               "users row 1 column localpart: user \"alice\": invalid localpart \"Alice\": contains "
                               "\"A\"; only a-z, 0-9, \".\", \"_\", \"=\", \"-\", \"/\" and \"+\" are allowed",
                               "users row 3: user \"carol\": localpart \"bob\" is already used by user \"bob\" (users "
                               "row 2)",
                           });
}

TEST_CASE("validate: linked accounts accept historical ids and are linked once", "[validate]") {
  Topology topology = sample();
  topology.users[0].linked_accounts = {"@Alice:other.example", "@alice:other.example", "alice", "@alice:other.example"};
  topology.users[1].linked_accounts = {"@alice:other.example"};
  topology.users[1].avatar_url = "mxc://example.org/bob.png";
  CHECK(check(topology) == Lines{
                               "users row 1: user \"alice\": invalid linked account \"alice\": must start with \"@\"",
                               "users row 1: user \"alice\": linked account \"@alice:other.example\" is listed twice",
                               "users row 2: user \"bob\": invalid avatarUrl \"mxc://example.org/bob.png\": media id "
                               "contains \".\"; only A-Z, a-z, 0-9, \"_\" and \"-\" are allowed",
                               "users row 2: user \"bob\": linked account \"@alice:other.example\" is already linked "
                               "to user \"alice\"",
                           });
}

TEST_CASE("validate: required fields are told apart as absent or empty", "[validate]") {
  Topology topology = sample();
  topology.communities[0].display_name = "";
  topology.councils[0].display_name = "";
  topology.councils[0].origin.fields["spec.name"] = cell("councils", 1, "name");
  topology.coordination_rooms[0].request = "";
  topology.communities[0].members.push_back(community_member("", 7));
  CHECK(check(topology) == Lines{
                               "communities row 1: community \"riverside\": missing required field \"name\"",
                               "councils row 1 column name: council \"disputes\": name must not be empty",
                               "memberships row 7 column user: community \"riverside\": a member's user must not be "
                               "empty",
                               "wealth_requests row 8841: coordination room \"request-8841\": missing required field "
                               "\"request\"",
                           });
}

TEST_CASE("validate: references resolve, with a suggestion when close", "[validate]") {
  Topology topology = sample();
  topology.communities[0].members.push_back(community_member("carl", 5));
  topology.communities[0].power_policy = "gentel";
  topology.councils[0].community = "riversid";
  topology.coordination_rooms[0].between[1] = "zed";

  SECTION("unknown names") {
    CHECK(check(topology) == Lines{
                                 "communities row 1: community \"riverside\": unknown power policy \"gentel\" (did you "
                                 "mean \"gentle\"?)",
                                 "councils row 1: council \"disputes\": unknown community \"riversid\" (did you mean "
                                 "\"riverside\"?)",
                                 "memberships row 5 column user: community \"riverside\": unknown user \"carl\" (did "
                                 "you mean \"carol\"?)",
                                 "wealth_requests row 8841: coordination room \"request-8841\": unknown user \"zed\"",
                             });
  }
  SECTION("the default policy may always be named") {
    topology = sample();
    topology.communities[0].power_policy = "default";
    CHECK(check(topology) == Lines{});
  }
}

TEST_CASE("validate: members are listed once and council members belong to the community", "[validate]") {
  Topology topology = sample();
  topology.communities[0].members.push_back(community_member("bob", 6));
  topology.councils[0].members.push_back(council_member("carol"));
  CHECK(check(topology) == Lines{
                               "council_members row 5 column carol: council \"disputes\": user \"carol\" is not a "
                               "member of community \"riverside\"",
                               "memberships row 6 column user: community \"riverside\": user \"bob\" is listed more "
                               "than once in members (first at memberships row 4 column user)",
                           });
}

TEST_CASE("validate: trust is never negative", "[validate]") {
  Topology topology = sample();
  topology.communities[0].members[1].trust = -1;
  CHECK(check(topology) ==
        Lines{"memberships row 4 column trust: community \"riverside\": trust of \"bob\" must be 0 or more, got -1"});
}

TEST_CASE("validate: councils and coordination rooms are always encrypted", "[validate]") {
  Topology topology = sample();
  topology.councils[0].encrypted = false;
  topology.coordination_rooms[0].encrypted = false;
  topology.coordination_rooms[0].origin.fields["spec.encrypted"] = cell("wealth_requests", 8841, "encrypted");
  CHECK(check(topology) == Lines{
                               "councils row 1: council \"disputes\": councils are always end-to-end encrypted; "
                               "encrypted: false is not allowed",
                               "wealth_requests row 8841 column encrypted: coordination room \"request-8841\": "
                               "coordination rooms are always end-to-end encrypted; encrypted: false is not allowed",
                           });
}

TEST_CASE("validate: a coordination room is between two distinct users", "[validate]") {
  Topology topology = sample();
  SECTION("one user") {
    topology.coordination_rooms[0].between = {"bob"};
    CHECK(check(topology) == Lines{"wealth_requests row 8841: coordination room \"request-8841\": between must name "
                                   "exactly two users, got 1"});
  }
  SECTION("the same user twice") {
    topology.coordination_rooms[0].between = {"bob", "bob"};
    CHECK(check(topology) == Lines{"wealth_requests row 8841: coordination room \"request-8841\": between must name "
                                   "two different users, got \"bob\" twice"});
  }
}

TEST_CASE("validate: power policy bands and levels", "[validate]") {
  Topology topology = sample();
  model::PowerPolicy& policy = topology.power_policies[0];
  SECTION("bands start at 0, ascend strictly and stay within 0..100") {
    policy.bands = {{1, 0}, {5, 10}, {5, 101}, {3, -1}};
    CHECK(check(topology) == Lines{
                                 "power_policies row 1: power policy \"gentle\": the first band must start at minTrust "
                                 "0, got 1",
                                 "power_policies row 1: power policy \"gentle\": bands must have strictly ascending "
                                 "minTrust, got 5 after 5",
                                 "power_policies row 1: power policy \"gentle\": band level must be between 0 and 100, "
                                 "got 101",
                                 "power_policies row 1: power policy \"gentle\": bands must have strictly ascending "
                                 "minTrust, got 3 after 5",
                                 "power_policies row 1: power policy \"gentle\": band level must be between 0 and 100, "
                                 "got -1",
                             });
  }
  SECTION("no bands") {
    policy.bands.clear();
    CHECK(check(topology) == Lines{"power_policies row 1: power policy \"gentle\": bands must not be empty"});
  }
  SECTION("role levels and thresholds") {
    policy.chair_level = 101;
    policy.state_default = -5;
    CHECK(check(topology) == Lines{
                                 "power_policies row 1: power policy \"gentle\": chairLevel must be between 0 and 100, "
                                 "got 101",
                                 "power_policies row 1: power policy \"gentle\": thresholds.stateDefault must be "
                                 "between 0 and 100, got -5",
                             });
  }
}

TEST_CASE("validate: diagnostics are sorted by position", "[validate]") {
  Topology topology = sample();
  topology.users[2].origin.object = SourceLocation{"a.yaml", 9, 1};
  topology.users[2].localpart = "C";
  topology.users[0].origin.object = SourceLocation{"a.yaml", 2, 1};
  topology.users[0].localpart = "A";
  Lines lines = check(topology);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].starts_with("a.yaml:2:1: user \"alice\""));
  CHECK(lines[1].starts_with("a.yaml:9:1: user \"carol\""));
}

TEST_CASE("validate: names with control characters are rejected at their position, and printed escaped",
          "[validate][limits]") {
  Topology topology = sample();
  topology.communities[0].display_name = "Riverside\x1b[2J\nCommons";
  topology.communities[0].origin.fields["spec.name"] = SourceLocation{"communities.yaml", 5, 9};
  topology.users[1].display_name = "Bob\u202Eevil";
  topology.users[1].origin.fields["spec.displayName"] = SourceLocation{"users.yaml", 12, 16};
  topology.councils[0].topic = "Disputes\r\n";
  topology.councils[0].origin.fields["spec.topic"] = SourceLocation{"councils.yaml", 7, 10};
  // The once-message keeps its lines; a stray ESC in it is still refused.
  topology.coordination_rooms[0].message = "Hello\n\tthere";
  CHECK(check(topology) == Lines{
                               "communities.yaml:5:9: community \"riverside\": invalid name: contains a control "
                               "character (U+001B)",
                               "councils.yaml:7:10: council \"disputes\": invalid topic: contains a line break "
                               "(U+000D)",
                               "users.yaml:12:16: user \"bob\": invalid displayName: contains a bidirectional "
                               "override (U+202E)",
                           });
  topology = sample();
  topology.coordination_rooms[0].message = "Hello\x1b]0;pwned\x07";
  CHECK(check(topology) == Lines{"wealth_requests row 8841: coordination room \"request-8841\": invalid message: "
                                 "contains a control character (U+001B)"});
}

TEST_CASE("validate: names in messages cannot drive the terminal", "[validate][limits]") {
  Topology topology = sample();
  topology.communities[0].name = "river\x1b[2J";
  topology.councils[0].community = "river\x1b[2J";
  CHECK(check(topology) == Lines{"communities row 1: community \"river\\u001b[2J\": invalid name: contains byte "
                                 "0x1B; only a-z, 0-9 and \"-\" are allowed"});
}

}  // namespace validate_test
