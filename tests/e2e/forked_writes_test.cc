// mxctl against a server that forks rooms like Synapse (mxsim's fork mode):
// two writes to one room in flight together share a parent, and the next
// incremental /sync misses one of them, so mxctl's view would stay stale
// forever. The executor never has two writes to one room in flight, so a
// pass that repairs drift needing two writes in one room converges.

#include <catch2/catch.hpp>

#include <string>

#include "tests/e2e/fixture.h"

namespace forked_writes_test {

namespace {

const std::string k_council_alias = "%23mxctl.council.disputes%3Amxsim.test";

std::string room_id_of(e2e::Fixture& fx, const std::string& alias) {
  mxsim::ApiResponse resolved = fx.as_bot("GET", "/_matrix/client/v3/directory/room/" + alias, nullptr);
  REQUIRE(resolved.status == 200);
  return resolved.body["room_id"];
}

}  // namespace

TEST_CASE("e2e: drift needing two writes in one room is repaired for good on a forking server", "[e2e][forks]") {
  e2e::Fixture fx;
  fx.homeserver().forks().configure({true, 40});
  auto cold = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(cold.out << cold.err);
  REQUIRE(cold.exit_code == 0);
  CHECK(fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"}).exit_code == 0);

  // By hand, one after the other (so this drift itself forks nothing): the
  // council space renamed, and heidi, who is not on the council, invited.
  const std::string space = room_id_of(fx, k_council_alias);
  REQUIRE(fx.as_bot("PUT", "/_matrix/client/v3/rooms/" + space + "/state/m.room.name/", {{"name", "Renamed by hand"}})
              .status == 200);
  REQUIRE(fx.as_bot("POST", "/_matrix/client/v3/rooms/" + space + "/invite", {{"user_id", "@heidi:mxsim.test"}})
              .status == 200);
  auto drift = fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"});
  INFO(drift.out << drift.err);
  REQUIRE(drift.exit_code == 2);
  REQUIRE(drift.out.find("= \"Renamed by hand\" -> \"Dispute Resolution Council\"") != std::string::npos);
  REQUIRE(drift.out.find("- members[\"@heidi:mxsim.test\"]") != std::string::npos);

  // One pass writes both into the space, a rename and a kick.
  auto repair = fx.mxctl({"apply", fx.manifests(), "--yes", "--parallel", "8"});
  INFO(repair.out << repair.err);
  REQUIRE(repair.exit_code == 0);
  REQUIRE(repair.err.find("succeeded: set m.room.name in council/disputes") != std::string::npos);
  REQUIRE(repair.err.find("succeeded: kick @heidi:mxsim.test from council/disputes") != std::string::npos);
  // The server holds the repair...
  CHECK(fx.as_bot("GET", "/_matrix/client/v3/rooms/" + space + "/state/m.room.name/", nullptr).body["name"] ==
        "Dispute Resolution Council");
  CHECK(fx.as_bot("GET", "/_matrix/client/v3/rooms/" + space + "/state/m.room.member/@heidi:mxsim.test", nullptr)
            .body["membership"] == "leave");
  // ...and the next pass, reading /sync from before the repair, sees it all.
  auto after = fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"});
  INFO(after.out << after.err);
  CHECK(after.exit_code == 0);
}

}  // namespace forked_writes_test
