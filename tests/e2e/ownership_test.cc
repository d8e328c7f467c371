// Rooms that claim to be ours but are not the ones mxctl manages.

#include <catch2/catch.hpp>

#include "tests/e2e/fixture.h"

namespace ownership_test {

TEST_CASE("e2e: stray rooms carrying a managed key do not displace the room holding the alias", "[e2e][ownership]") {
  e2e::Fixture fx;
  REQUIRE(fx.mxctl({"apply", fx.manifests(), "--yes"}).exit_code == 0);
  // What a createRoom that failed half-way on Synapse can leave behind: a
  // marked room without the alias, with a different name. Several, so that
  // picking one by chance would almost surely pick a wrong one.
  for (int i = 0; i < 5; ++i) {
    nlohmann::json body = {
        {"name", "half-created " + std::to_string(i)},
        {"preset", "private_chat"},
        {"creation_content", {{"type", "m.space"}}},
        {"initial_state",
         {{{"type", e2e::k_marker_type},
           {"state_key", ""},
           {"content", {{"key", "community/riverside"}, {"instance", "default"}}}}}},
    };
    REQUIRE(fx.as_bot("POST", "/_matrix/client/v3/createRoom", body).status == 200);
  }
  std::filesystem::remove(fx.state());  // no store hints: observation alone decides
  auto plan = fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"});
  INFO(plan.out << plan.err);
  CHECK(plan.exit_code == 0);
  // The plan says the store lost its records, and changes nothing.
  CHECK(plan.out.rfind("No changes. The homeserver matches the desired state.\n\n"
                       "Warning: the state store knew none of the 14 rooms", 0) == 0);
}

}  // namespace ownership_test
