// Guests against mxsim, with the real mxctl binary: councils and
// coordination rooms are created with guest access forbidden (in place of
// the private_chat preset's can_join), community rooms keep the preset's,
// and a council opened to guests by hand is closed again.

#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "tests/e2e/fixture.h"
#include "tests/support/http_json.h"

namespace guest_access_test {

namespace {

using e2e::Fixture;

// The room's m.room.guest_access, or "" when it has none.
std::string guest_access(Fixture& fx, const std::string& key) {
  const std::string id = e2e::stored_room_id(fx, key);
  auto lock = fx.homeserver().read_lock();
  mxsim::Room* room = fx.homeserver().state().find_room(id);
  REQUIRE(room != nullptr);
  return room->state_string("m.room.guest_access", "guest_access");
}

}  // namespace

TEST_CASE("e2e: councils and coordination rooms keep guests out, a room opened to them is closed again",
          "[e2e][guest_access]") {
  Fixture fx;
  auto applied = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(applied.out << applied.err);
  REQUIRE(applied.exit_code == 0);
  for (const char* key : {"council/disputes", "council/disputes/discussion", "dm/request-8841"}) {
    INFO(key);
    CHECK(guest_access(fx, key) == "forbidden");
  }
  // Not managed there: the preset's stays.
  CHECK(guest_access(fx, "community/riverside/general") == "can_join");

  const std::string council = e2e::stored_room_id(fx, "council/disputes/discussion");
  const std::string path =
      "/_matrix/client/v3/rooms/" + testing_support::url_encode(council) + "/state/m.room.guest_access/";
  REQUIRE(fx.as_bot("PUT", path, {{"guest_access", "can_join"}}).status == 200);
  auto plan = fx.mxctl({"plan", fx.manifests()});
  INFO(plan.out << plan.err);
  CHECK(plan.out.find("~ guest_access = \"can_join\" -> \"forbidden\"") != std::string::npos);
  auto repaired = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(repaired.out << repaired.err);
  REQUIRE(repaired.exit_code == 0);
  CHECK(guest_access(fx, "council/disputes/discussion") == "forbidden");
  auto again = fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"});
  INFO(again.out << again.err);
  CHECK(again.exit_code == 0);
}

}  // namespace guest_access_test
