// A power-levels write by mxctl changes the levels it manages and nothing
// else: keys Synapse adds (`historical`), keys of other clients, event types
// and users mxctl does not manage all stay as the server had them.

#include <catch2/catch.hpp>

#include <filesystem>

#include "tests/e2e/fixture.h"

namespace power_levels_test {

using e2e::Fixture;

namespace {

const std::string k_riverside = "%23mxctl.community.riverside%3Amxsim.test";
const std::string k_grace = "@grace:mxsim.test";

std::string room_id_of(Fixture& fx, const std::string& encoded_alias) {
  mxsim::ApiResponse resolved = fx.as_bot("GET", "/_matrix/client/v3/directory/room/" + encoded_alias, nullptr);
  REQUIRE(resolved.status == 200);
  return resolved.body["room_id"];
}

nlohmann::json power_levels(Fixture& fx, const std::string& room_id) {
  mxsim::ApiResponse levels =
      fx.as_bot("GET", "/_matrix/client/v3/rooms/" + mxsim::percent_encode(room_id) + "/state/m.room.power_levels/",
                nullptr);
  REQUIRE(levels.status == 200);
  return levels.body;
}

void put_power_levels(Fixture& fx, const std::string& room_id, const nlohmann::json& content) {
  REQUIRE(fx.as_bot("PUT", "/_matrix/client/v3/rooms/" + mxsim::percent_encode(room_id) + "/state/m.room.power_levels/",
                    content)
              .status == 200);
}

}  // namespace

TEST_CASE("e2e: repairing a managed level keeps every power-levels key mxctl does not manage",
          "[e2e][power_levels]") {
  Fixture fx;
  auto first = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  const std::string room_id = room_id_of(fx, k_riverside);
  nlohmann::json applied = power_levels(fx, room_id);
  // Synapse's createRoom puts it there, and so does mxsim; mxctl never names it.
  REQUIRE(applied["historical"] == 100);
  REQUIRE(applied["users"][k_grace] == 50);

  // By hand: a managed user's level drifts, and other clients add their own keys.
  nlohmann::json by_hand = applied;
  by_hand["users"][k_grace] = 10;
  by_hand["users"]["@stranger:mxsim.test"] = 7;
  by_hand["events"]["org.example.widget"] = 33;
  by_hand["org.example.custom"] = 7;
  by_hand["notifications"]["org.example.ping"] = 20;
  put_power_levels(fx, room_id, by_hand);

  SECTION("observed incrementally") {}
  SECTION("observed by a full read") { std::filesystem::remove(fx.state()); }

  auto drift = fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"});
  INFO(drift.out << drift.err);
  REQUIRE(drift.exit_code == 2);
  CHECK(drift.out.find("~ power_levels.users[\"" + k_grace + "\"] = 10 -> 50") != std::string::npos);
  auto repair = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(repair.out << repair.err);
  REQUIRE(repair.exit_code == 0);

  // Exactly the hand-made content with the managed level put back.
  nlohmann::json expected = by_hand;
  expected["users"][k_grace] = 50;
  CHECK(power_levels(fx, room_id) == expected);
  CHECK(fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"}).exit_code == 0);
}

TEST_CASE("e2e: a trust change keeps the power-levels keys Synapse adds", "[e2e][power_levels]") {
  Fixture fx;
  REQUIRE(fx.mxctl({"apply", fx.manifests(), "--yes"}).exit_code == 0);
  const std::string room_id = room_id_of(fx, k_riverside);
  nlohmann::json before = power_levels(fx, room_id);
  REQUIRE(before["historical"] == 100);

  fx.edit("communities.yaml", "    - user: grace\n      trust: 30\n", "    - user: grace\n      trust: 20\n");
  auto apply = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(apply.out << apply.err);
  REQUIRE(apply.exit_code == 0);

  nlohmann::json expected = before;
  expected["users"][k_grace] = 25;
  CHECK(power_levels(fx, room_id) == expected);
}

}  // namespace power_levels_test
