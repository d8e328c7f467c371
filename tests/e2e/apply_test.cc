// The mxctl binary against mxsim over loopback: apply the example instance,
// converge, and make targeted changes.

#include <catch2/catch.hpp>

#include <filesystem>

#include "tests/e2e/fixture.h"

namespace apply_test {

using e2e::Fixture;
using e2e::writes_in;

TEST_CASE("e2e: apply converges the example instance and a second pass changes nothing", "[e2e][apply]") {
  Fixture fx;
  auto first = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  CHECK(first.out.find("Plan: 33 to add, 0 to change, 0 to destroy.") != std::string::npos);
  CHECK(first.out.find("Apply complete! Resources: 33 added, 0 changed, 0 destroyed.") != std::string::npos);

  auto second = fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode", "--stats"});
  INFO(second.out << second.err);
  CHECK(second.exit_code == 0);
  CHECK(second.out == "No changes. The homeserver matches the desired state.\n");
  CHECK(writes_in(second.err) == 0);

  SECTION("one trust change is one power-levels event in each room of that community") {
    fx.edit("communities.yaml", "    - user: bob\n      trust: 4\n", "    - user: bob\n      trust: 5\n");
    auto plan = fx.mxctl({"plan", fx.manifests(), "--format", "json"});
    REQUIRE(plan.exit_code == 0);
    auto apply = fx.mxctl({"apply", fx.manifests(), "--yes", "--stats"});
    INFO(apply.out << apply.err);
    REQUIRE(apply.exit_code == 0);
    // bob is in the riverside space and its general room: one write each.
    CHECK(apply.out.find("Plan: 0 to add, 2 to change, 0 to destroy.") != std::string::npos);
    CHECK(writes_in(apply.err) == 2);
    CHECK(fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"}).exit_code == 0);
  }

  SECTION("renaming a community changes its name event only") {
    fx.edit("communities.yaml", "  name: Riverside Commons\n", "  name: Riverside Commons Co-op\n");
    auto apply = fx.mxctl({"apply", fx.manifests(), "--yes", "--stats"});
    INFO(apply.out << apply.err);
    REQUIRE(apply.exit_code == 0);
    CHECK(apply.out.find("~ name = \"Riverside Commons\" -> \"Riverside Commons Co-op\"") != std::string::npos);
    CHECK(fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"}).exit_code == 0);
  }

  SECTION("a lost state store is rebuilt from markers without duplicates") {
    std::filesystem::remove(fx.state());
    auto plan = fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"});
    INFO(plan.out << plan.err);
    // Rooms are found again by their markers, and the coordination messages
    // are found in the rooms' timelines, so nothing is planned at all.
    CHECK(plan.exit_code == 0);
    // The plan says the store lost its records, and changes nothing.
    CHECK(plan.out.rfind("No changes. The homeserver matches the desired state.\n\n"
                         "Warning: the state store knew none of the 14 rooms", 0) == 0);
  }
}

TEST_CASE("e2e: plan --detailed-exitcode is 2 with changes, and apply refuses without a terminal", "[e2e][apply]") {
  Fixture fx;
  auto plan = fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"});
  CHECK(plan.exit_code == 2);
  auto apply = fx.mxctl({"apply", fx.manifests()});
  CHECK(apply.exit_code == 1);
  CHECK(apply.err.find("refusing to apply without confirmation: standard input is not a terminal; pass --yes") !=
        std::string::npos);
}

TEST_CASE("e2e: a saved plan is applied exactly, and refused once stale", "[e2e][apply]") {
  Fixture fx;
  std::string saved = fx.manifests() + "/../plan.json";
  REQUIRE(fx.mxctl({"plan", fx.manifests(), "--out", saved}).exit_code == 0);
  SECTION("fresh") {
    auto apply = fx.mxctl({"apply", "--plan", saved});
    INFO(apply.err);
    CHECK(apply.exit_code == 0);
  }
  SECTION("the manifests changed") {
    fx.edit("communities.yaml", "  name: Riverside Commons\n", "  name: Riverside\n");
    auto apply = fx.mxctl({"apply", "--plan", saved});
    CHECK(apply.exit_code == 1);
    CHECK(apply.err.find("saved plan is stale: the manifests changed since it was made") != std::string::npos);
  }
  SECTION("the homeserver changed") {
    REQUIRE(fx.mxctl({"apply", fx.manifests(), "--yes"}).exit_code == 0);
    auto apply = fx.mxctl({"apply", "--plan", saved});
    CHECK(apply.exit_code == 1);
    CHECK(apply.err.find("saved plan is stale: the homeserver changed since it was made") != std::string::npos);
  }
}

}  // namespace apply_test
