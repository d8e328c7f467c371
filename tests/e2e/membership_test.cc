// Membership changes through the real binary: who is removed from which rooms.

#include <catch2/catch.hpp>

#include "tests/e2e/fixture.h"

namespace membership_test {

namespace {

// The membership mxsim holds for `user` in the room behind `alias`
// ("join", "invite", "leave", ...), read as the bot straight from the server.
std::string membership_of(e2e::Fixture& fx, const std::string& alias, const std::string& user) {
  mxsim::ApiResponse resolved = fx.as_bot("GET", "/_matrix/client/v3/directory/room/" + alias, nullptr);
  REQUIRE(resolved.status == 200);
  std::string room_id = resolved.body["room_id"];
  mxsim::ApiResponse member =
      fx.as_bot("GET", "/_matrix/client/v3/rooms/" + room_id + "/state/m.room.member/" + user, nullptr);
  if (member.status == 404) {
    return "none";
  }
  REQUIRE(member.status == 200);
  return member.body.value("membership", "");
}

}  // namespace

TEST_CASE("e2e: removing a council member kicks them from the council's rooms only", "[e2e][membership]") {
  e2e::Fixture fx;
  REQUIRE(fx.mxctl({"apply", fx.manifests(), "--yes"}).exit_code == 0);
  const std::string erin = "@erin:mxsim.test";
  const std::string council_space = "%23mxctl.council.disputes%3Amxsim.test";
  const std::string discussion = "%23mxctl.council.disputes.discussion%3Amxsim.test";
  const std::string community = "%23mxctl.community.riverside%3Amxsim.test";
  REQUIRE(membership_of(fx, council_space, erin) == "invite");

  fx.edit("councils.yaml", "    - user: erin\n", "");
  auto plan = fx.mxctl({"plan", fx.manifests()});
  INFO(plan.out << plan.err);
  REQUIRE(plan.exit_code == 0);
  CHECK(plan.out.find("- members[\"@erin:mxsim.test\"]") != std::string::npos);
  CHECK(plan.out.find("Plan: 0 to add, 2 to change, 0 to destroy.") != std::string::npos);

  auto apply = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(apply.out << apply.err);
  REQUIRE(apply.exit_code == 0);
  CHECK(membership_of(fx, council_space, erin) == "leave");
  CHECK(membership_of(fx, discussion, erin) == "leave");
  // Still a member of the community: its rooms are untouched.
  CHECK(membership_of(fx, community, erin) == "invite");
  CHECK(fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"}).exit_code == 0);
}

TEST_CASE("e2e: forceJoin joins local members instead of inviting them", "[e2e][membership]") {
  e2e::Fixture fx;
  std::string config = fx.scratch("mxctl.yaml");
  std::ofstream(config) << "forceJoin: true\n";
  auto apply = fx.mxctl({"--config", config, "apply", fx.manifests(), "--yes"});
  INFO(apply.out << apply.err);
  REQUIRE(apply.exit_code == 0);
  CHECK(membership_of(fx, "%23mxctl.council.disputes%3Amxsim.test", "@erin:mxsim.test") == "join");
  CHECK(membership_of(fx, "%23mxctl.community.riverside.general%3Amxsim.test", "@bob:mxsim.test") == "join");
  CHECK(fx.mxctl({"--config", config, "plan", fx.manifests(), "--detailed-exitcode"}).exit_code == 0);
}

TEST_CASE("e2e: a member who declines a community room is left alone unless the policy says otherwise",
          "[e2e][membership]") {
  e2e::Fixture fx;
  REQUIRE(fx.mxctl({"apply", fx.manifests(), "--yes"}).exit_code == 0);
  const std::string general = "%23mxctl.community.riverside.general%3Amxsim.test";
  mxsim::ApiResponse resolved = fx.as_bot("GET", "/_matrix/client/v3/directory/room/" + general, nullptr);
  REQUIRE(resolved.status == 200);
  std::string bob_token = fx.homeserver().issue_token("@bob:mxsim.test");
  mxsim::ApiResponse left = fx.homeserver().handle(mxsim::make_request(
      "POST", "/_matrix/client/v3/rooms/" + std::string(resolved.body["room_id"]) + "/leave",
      {{"authorization", "Bearer " + bob_token}}, "{}"));
  REQUIRE(left.status == 200);
  REQUIRE(membership_of(fx, general, "@bob:mxsim.test") == "leave");

  CHECK(fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"}).exit_code == 0);

  std::string config = fx.scratch("mxctl.yaml");
  std::ofstream(config) << "reinviteToCommunityRooms: true\n";
  auto plan = fx.mxctl({"--config", config, "plan", fx.manifests(), "--detailed-exitcode"});
  INFO(plan.out << plan.err);
  CHECK(plan.exit_code == 2);
  CHECK(plan.out.find("+ members[\"@bob:mxsim.test\"] = invited") != std::string::npos);
}

TEST_CASE("e2e: coordination DMs are listed in both participants' m.direct, once", "[e2e][membership]") {
  e2e::Fixture fx;
  REQUIRE(fx.mxctl({"apply", fx.manifests(), "--yes"}).exit_code == 0);
  mxsim::ApiResponse resolved =
      fx.as_bot("GET", "/_matrix/client/v3/directory/room/%23mxctl.dm.request-8841%3Amxsim.test", nullptr);
  REQUIRE(resolved.status == 200);
  const std::string room_id = resolved.body["room_id"];
  // request-8841 is between bob and carol (manifests/coordination.yaml).
  for (const auto& [user, other] : std::vector<std::pair<std::string, std::string>>{
           {"@bob:mxsim.test", "@carol:mxsim.test"}, {"@carol:mxsim.test", "@bob:mxsim.test"}}) {
    std::string token = fx.homeserver().issue_token(user);
    mxsim::ApiResponse direct = fx.homeserver().handle(mxsim::make_request(
        "GET", "/_matrix/client/v3/user/" + user + "/account_data/m.direct", {{"authorization", "Bearer " + token}}));
    INFO(user << ": " << direct.body.dump());
    REQUIRE(direct.status == 200);
    CHECK(direct.body[other] == nlohmann::json::array({room_id}));
  }
  SECTION("a lost store finds them listed and plans nothing") {
    std::filesystem::remove(fx.state());
    auto plan = fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"});
    INFO(plan.out << plan.err);
    CHECK(plan.exit_code == 0);
  }
}

}  // namespace membership_test
