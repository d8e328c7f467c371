// The probe of the homeserver (versions, whoami, the admin API, the bot's
// rate limits) is asked once and kept in the state store: passes within its
// lifetime, with the same server, bot and token, do not ask again; a new
// token, a stale probe or a refused request asks afresh.

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <string>
#include <vector>

#include "tests/e2e/fixture.h"
#include "tests/support/process.h"

namespace kept_probe_test {

namespace {

using e2e::Fixture;

// The routes a plan asked, in order.
std::vector<std::string> plan_routes(Fixture& fx, const std::map<std::string, std::string>& env = {},
                                     std::vector<std::string> extra = {}) {
  fx.homeserver().journal().reset();
  std::vector<std::string> argv = {MXCTL_BINARY, "plan", fx.manifests()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  std::map<std::string, std::string> vars = fx.env();
  for (const auto& [name, value] : env) {
    vars[name] = value;
  }
  auto plan = testing_support::run_process(argv, vars);
  INFO(plan.out << plan.err);
  REQUIRE(plan.exit_code == 0);
  std::vector<std::string> routes;
  for (const mxsim::JournalEntry& entry : fx.homeserver().journal().entries()) {
    routes.push_back(entry.route);
  }
  return routes;
}

std::string listed(const std::vector<std::string>& routes) {
  std::string out;
  for (const std::string& route : routes) {
    out += route + "\n";
  }
  return out;
}

bool asked(const std::vector<std::string>& routes, const std::string& route) {
  return std::find(routes.begin(), routes.end(), route) != routes.end();
}

const std::string k_versions = "GET /_matrix/client/versions";
const std::string k_whoami = "GET /_matrix/client/v3/account/whoami";

}  // namespace

TEST_CASE("e2e: the probe is kept in the store, and asked again for a new token or when stale",
          "[e2e][requests][probe]") {
  Fixture fx;
  auto first = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(first.out << first.err);
  REQUIRE(first.exit_code == 0);

  auto kept = plan_routes(fx);
  INFO(listed(kept));
  CHECK_FALSE(asked(kept, k_versions));
  CHECK_FALSE(asked(kept, k_whoami));
  CHECK_FALSE(asked(kept, "GET /_synapse/admin/v1/server_version"));

  SECTION("another token for the same bot is probed afresh") {
    const std::string token = fx.homeserver().issue_token(e2e::k_bot);
    auto fresh = plan_routes(fx, {{"MATRIX_BOT_ACCESS_TOKEN", token}});
    CHECK(asked(fresh, k_versions));
    CHECK(asked(fresh, k_whoami));
    // ... and that probe is the one kept now.
    CHECK_FALSE(asked(plan_routes(fx, {{"MATRIX_BOT_ACCESS_TOKEN", token}}), k_whoami));
  }
  SECTION("a probe older than its lifetime is asked again") {
    const auto later = std::chrono::system_clock::now() + std::chrono::minutes(61);
    const std::time_t at = std::chrono::system_clock::to_time_t(later);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&at));
    CHECK(asked(plan_routes(fx, {}, {"--now", text}), k_whoami));
  }
  SECTION("a token revoked since the probe was kept is reported as the probe reports it") {
    REQUIRE(fx.as_bot("POST", "/_matrix/client/v3/logout", nlohmann::json::object()).status == 200);
    auto refused = fx.mxctl({"plan", fx.manifests()});
    CHECK(refused.exit_code == 1);
    CHECK(refused.err.find("the bot's access token was not accepted") != std::string::npos);
  }
}

}  // namespace kept_probe_test
