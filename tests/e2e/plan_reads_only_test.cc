// `plan` is a reader: whatever the state store lacks, it never writes to the
// homeserver (no logins as users to read their m.direct, no logouts), and
// neither does `apply --dry-run`.

#include <catch2/catch.hpp>

#include <filesystem>

#include "tests/e2e/fixture.h"

namespace plan_reads_only_test {

namespace {

// Requests other than reads the simulator answered after `after`.
std::vector<std::string> writes_since(e2e::Fixture& fx, uint64_t after) {
  std::vector<std::string> out;
  for (const mxsim::JournalEntry& entry : fx.homeserver().journal().entries(after)) {
    if (entry.write) {
      out.push_back(entry.method + " " + entry.path);
    }
  }
  return out;
}

// Requests for `route` ("METHOD /template") answered after `after`.
std::size_t count_since(e2e::Fixture& fx, uint64_t after, const std::string& route) {
  std::size_t count = 0;
  for (const mxsim::JournalEntry& entry : fx.homeserver().journal().entries(after)) {
    count += entry.route == route ? 1 : 0;
  }
  return count;
}

}  // namespace

TEST_CASE("e2e plan: with an empty state store, plan and dry runs make no writes to the homeserver", "[e2e][plan]") {
  e2e::Fixture fx;
  auto applied = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(applied.out << applied.err);
  REQUIRE(applied.exit_code == 0);
  // The store is what told earlier passes that the DMs are in m.direct.
  std::filesystem::remove(fx.state());

  uint64_t before = fx.homeserver().journal().last_seq();
  auto plan = fx.mxctl({"plan", fx.manifests(), "--stats"});
  INFO(plan.out << plan.err);
  REQUIRE(plan.exit_code == 0);
  CHECK(writes_since(fx, before).empty());
  CHECK(e2e::client_stats_in(plan.err).writes == 0);
  // The DMs' m.direct entries were read through the admin API, so the plan
  // knows they are set.
  CHECK(plan.out.find("No changes.") != std::string::npos);
  CHECK(count_since(fx, before, "GET /_synapse/admin/v1/users/{userId}/accountdata") == 4);

  before = fx.homeserver().journal().last_seq();
  fx.edit("communities.yaml", "name: Riverside Commons", "name: Riverside Common");
  auto dry = fx.mxctl({"apply", fx.manifests(), "--dry-run"});
  INFO(dry.out << dry.err);
  REQUIRE(dry.exit_code == 0);
  CHECK(writes_since(fx, before).empty());
}

}  // namespace plan_reads_only_test
