// Incremental observation: after a first full read, a pass asks the server
// only for what changed since the token in the state store.

#include <catch2/catch.hpp>

#include "adapters/state_store.h"
#include "tests/e2e/fixture.h"

namespace incremental_test {

namespace {

long bytes_received(const std::string& err) {
  std::smatch match;
  REQUIRE(std::regex_search(err, match, std::regex(R"((\d+) bytes received)")));
  return std::stol(match[1]);
}

}  // namespace

TEST_CASE("e2e: a pass with a sync token reads only changes and still sees drift", "[e2e][incremental]") {
  e2e::Fixture fx;
  REQUIRE(fx.mxctl({"apply", fx.manifests(), "--yes"}).exit_code == 0);
  // The pass right after an apply reads the rooms it created in full (they
  // are new since its token); the one after that has nothing left to catch up.
  REQUIRE(fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"}).exit_code == 0);
  auto incremental = fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode", "--stats"});
  REQUIRE(incremental.exit_code == 0);

  SECTION("far fewer bytes than a full read of the same state") {
    // Dropping the snapshots and token forces the full read.
    std::filesystem::remove(fx.state());
    auto full = fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode", "--stats"});
    INFO(incremental.err << full.err);
    REQUIRE(full.exit_code == 0);
    CHECK(bytes_received(incremental.err) * 4 < bytes_received(full.err));
  }

  SECTION("a change made behind mxctl's back shows up and is put right") {
    mxsim::ApiResponse resolved =
        fx.as_bot("GET", "/_matrix/client/v3/directory/room/%23mxctl.community.riverside%3Amxsim.test", nullptr);
    REQUIRE(resolved.status == 200);
    std::string room_id = resolved.body["room_id"];
    REQUIRE(fx.as_bot("PUT", "/_matrix/client/v3/rooms/" + room_id + "/state/m.room.topic/", {{"topic", "vandalised"}})
                .status == 200);
    auto drift = fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"});
    INFO(drift.out << drift.err);
    CHECK(drift.exit_code == 2);
    CHECK(drift.out.find("~ topic = \"vandalised\" -> \"Sharing tools, food and time along the river\"") !=
          std::string::npos);
    REQUIRE(fx.mxctl({"apply", fx.manifests(), "--yes"}).exit_code == 0);
    CHECK(fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"}).exit_code == 0);
  }

  SECTION("a token the server rejects falls back to a full read") {
    {
      auto store = adapters::open_sqlite_store(fx.state());
      REQUIRE(store);
      // The snapshots behind the old token stay: only the token is bad.
      REQUIRE((*store)->set_sync_token("not-a-token"));
    }
    auto plan = fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"});
    INFO(plan.out << plan.err);
    CHECK(plan.exit_code == 0);
  }
}

}  // namespace incremental_test
