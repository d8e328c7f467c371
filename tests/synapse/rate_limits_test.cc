// Synapse's own default rate limits (the server started with
// RATE_LIMITS=synapse-defaults): without a rate-limit override on the bot,
// the plan of the example warns how long an apply may take; with the
// override the warning is gone; and a small apply without it meets 429s,
// waits them out and completes.

#include <catch2/catch.hpp>

#include <regex>
#include <string>
#include <vector>

#include "tests/synapse/fixture.h"
#include "tests/synapse/truth.h"

namespace rate_limits_test {

using synapse_e2e::Fixture;
using testing_support::url_encode;

namespace {

const std::string k_note = "has no rate-limit override";

// A community of fifteen and its general room: two rooms, each inviting ten
// in its createRoom (which Synapse's default per-room invite burst allows)
// and five more one by one, and a space link: a few more events than
// Synapse's burst of ten before a 429.
const std::vector<std::string> k_small_names = {"amy", "ben", "cal", "dee", "eve", "fay", "gus", "hal",
                                                "ivy", "jon", "kim", "lou", "max", "ned", "oli"};

std::string small_users() {
  std::string out;
  for (const std::string& name : k_small_names) {
    out += "---\napiVersion: mxctl/v1\nkind: User\nmetadata:\n  name: " + name + "\n";
  }
  return out;
}

std::string small_community() {
  std::string out = "---\napiVersion: mxctl/v1\nkind: Community\nmetadata:\n  name: brook\nspec:\n"
                    "  name: Brook Street\n  members:\n";
  int trust = 0;
  for (const std::string& name : k_small_names) {
    out += "    - user: " + name + "\n      trust: " + std::to_string(trust) + "\n";
    trust = (trust + 7) % 41;
  }
  return out;
}

// The "retried" count of the last "Requests: ..." line of --stats.
int retried_in(const std::string& err) {
  const std::regex line(R"(Requests: \d+ \(\d+ reads, \d+ writes, (\d+) retried\))");
  int retried = -1;
  for (auto it = std::sregex_iterator(err.begin(), err.end(), line); it != std::sregex_iterator(); ++it) {
    retried = std::stoi((*it)[1]);
  }
  return retried;
}

}  // namespace

TEST_CASE("synapse: default rate limits: the plan's note, the bot's override, and an apply that waits out 429s",
          "[synapse][rate-limits]") {
  synapse_e2e::FixtureOptions options;
  options.needs.own_server = true;
  options.needs.synapse_default_rate_limits = true;
  auto fx = Fixture::create(options);
  if (!fx) {
    return;
  }
  const std::string override_path = "/_synapse/admin/v1/users/" + url_encode(fx->bot()) + "/override_ratelimit";
  {
    auto limited = fx->mxctl({"plan", fx->manifests(), "--state", fx->scratch("example.db")});
    INFO(synapse_e2e::shown(limited));
    CHECK(limited.exit_code == 0);
    CHECK(limited.err.find(k_note) != std::string::npos);
  }
  {
    auto lifted = fx->server().admin("POST", override_path, {{"messages_per_second", 0}, {"burst_count", 0}});
    INFO(lifted.describe());
    REQUIRE(lifted.ok());
    auto unlimited = fx->mxctl({"plan", fx->manifests(), "--state", fx->scratch("example.db")});
    INFO(synapse_e2e::shown(unlimited));
    CHECK(unlimited.exit_code == 0);
    CHECK(unlimited.err.find("rate-limit override") == std::string::npos);
    auto removed = fx->server().admin("DELETE", override_path);
    INFO(removed.describe());
    REQUIRE(removed.ok());
  }

  const std::string small = fx->scratch("small");
  std::filesystem::create_directories(small);
  std::ofstream(small + "/users.yaml") << synapse_e2e::fit_users(small_users(), fx->server().run_suffix());
  std::ofstream(small + "/communities.yaml") << small_community();
  auto applied = fx->mxctl({"apply", small, "--yes", "--stats"});
  INFO(synapse_e2e::shown(applied));
  CHECK(applied.exit_code == 0);
  CHECK(retried_in(applied.err) > 0);
  auto desired = fx->mxctl({"desired", small, "-o", "json"});
  REQUIRE(desired.exit_code == 0);
  auto problems = synapse_e2e::convergence_problems(*fx, nlohmann::json::parse(desired.out));
  INFO(synapse_e2e::lines(problems));
  CHECK(problems.empty());
  auto plan = fx->mxctl({"plan", small, "--detailed-exitcode"});
  INFO(synapse_e2e::shown(plan));
  CHECK(plan.exit_code == 0);
}

}  // namespace rate_limits_test
