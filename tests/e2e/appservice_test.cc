// Appservice provisioning against mxsim: the homeserver loads a registration,
// mxctl reads the same file (appserviceRegistration) and provisions accounts
// with the as_token alone, no admin API. Also the probe in both modes, in
// process, and idempotent account creation.

#include <catch2/catch.hpp>

#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "adapters/homeserver/http_homeserver.h"
#include "mxsim/homeserver.h"
#include "mxsim/server.h"
#include "tests/e2e/appservice_fixture.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace appservice_test {

namespace {

using e2e::AppserviceFixture;
using e2e::k_appservice_bot;
const std::string k_server_name = "mxsim.test";
const std::string k_bot = k_appservice_bot;

int writes_in(const std::string& stats) {
  std::smatch match;
  REQUIRE(std::regex_search(stats, match, std::regex(R"((\d+) writes)")));
  return std::stoi(match[1]);
}

model::Settings settings_for(const std::string& url, model::ProvisioningMode mode) {
  model::Settings settings;
  settings.homeserver_url = url;
  settings.server_name = k_server_name;
  settings.bot_user_id = k_bot;
  settings.provisioning = mode;
  return settings;
}

}  // namespace

TEST_CASE("e2e: appservice provisioning converges the example instance without the admin API",
          "[e2e][appservice]") {
  AppserviceFixture fx;
  auto first = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(first.out << first.err);
  REQUIRE(first.exit_code == 0);
  CHECK(first.out.find("Plan: 33 to add, 0 to change, 0 to destroy.") != std::string::npos);
  CHECK(first.out.find("Apply complete! Resources: 33 added, 0 changed, 0 destroyed.") != std::string::npos);

  // Accounts were registered by the appservice, profiles set by masquerading.
  auto alice = fx.user("@alice:mxsim.test");
  REQUIRE(alice);
  CHECK(alice->appservice_id == "mxctl");
  CHECK(alice->displayname == std::optional<std::string>("Alice Moreau"));
  CHECK(alice->avatar_url == std::optional<std::string>("mxc://example.org/AliceMoreauAvatar"));
  auto bob = fx.user("@bob:mxsim.test");
  REQUIRE(bob);
  CHECK(bob->displayname == std::optional<std::string>("bob"));  // none declared: registration's default stays
  for (const mxsim::JournalEntry& entry : fx.homeserver().journal().entries()) {
    INFO(entry.method << " " << entry.path);
    // Only the probe's unauthenticated version read and its one refused admin check.
    CHECK((entry.route.find("/_synapse/admin") == std::string::npos ||
           entry.route == "GET /_synapse/admin/v1/server_version" || entry.status == 403));
  }

  uint64_t before = fx.homeserver().journal().last_seq();
  auto second = fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode", "--stats"});
  INFO(second.out << second.err);
  CHECK(second.exit_code == 0);
  CHECK(second.out == "No changes. The homeserver matches the desired state.\n");
  CHECK(writes_in(second.err) == 0);
  auto routes = fx.routes_since(before);
  // One profile read per desired account (20 users): no account list in this mode.
  CHECK(std::count(routes.begin(), routes.end(), "GET /_matrix/client/v3/profile/{userId}") == 20);

  SECTION("a display name change is one masquerading profile write") {
    fx.edit("users.yaml", "displayName: Carol Nguyen", "displayName: Carol Nguyen-Lefèvre");
    before = fx.homeserver().journal().last_seq();
    auto apply = fx.mxctl({"apply", fx.manifests(), "--yes"});
    INFO(apply.out << apply.err);
    REQUIRE(apply.exit_code == 0);
    CHECK(apply.out.find("Plan: 0 to add, 1 to change, 0 to destroy.") != std::string::npos);
    std::vector<std::string> writes;
    for (const mxsim::JournalEntry& entry : fx.homeserver().journal().entries(before)) {
      if (entry.write) {
        writes.push_back(entry.method + " " + entry.path + " as " + entry.user_id);
      }
    }
    CHECK(writes == std::vector<std::string>{
                        "PUT /_matrix/client/v3/profile/@carol:mxsim.test/displayname as @carol:mxsim.test"});
    CHECK(fx.user("@carol:mxsim.test")->displayname == std::optional<std::string>("Carol Nguyen-Lefèvre"));
    CHECK(fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"}).exit_code == 0);
  }
}

TEST_CASE("e2e: appservice account creation is idempotent (M_USER_IN_USE)", "[e2e][appservice]") {
  AppserviceFixture fx;
  adapters::HttpHomeserver homeserver(settings_for(fx.base_url(), model::ProvisioningMode::appservice),
                                      "as_token_for_mxctl_e2e");
  model::MatrixState desired;
  model::Account erin;
  erin.key = "erin";
  erin.localpart = "erin";
  erin.user_id = "@erin:mxsim.test";
  erin.display_name = "Erin";
  desired.accounts["erin"] = erin;
  model::Operation create;
  create.kind = model::Operation::Kind::create_account;
  create.account_key = "erin";

  REQUIRE(homeserver.execute(create, {&desired, {}}));
  uint64_t before = fx.homeserver().journal().last_seq();
  auto again = homeserver.execute(create, {&desired, {}});
  INFO((again ? "" : again.error().message));
  REQUIRE(again);
  auto entries = fx.homeserver().journal().entries(before);
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].route == "POST /_matrix/client/v3/register");
  CHECK(entries[0].status == 400);  // M_USER_IN_USE: it exists, as desired
  CHECK(entries[1].route == "GET /_matrix/client/v3/profile/{userId}");
  CHECK(fx.user("@erin:mxsim.test")->displayname == std::optional<std::string>("Erin"));

  auto observed = homeserver.observe(desired, {});
  REQUIRE(observed);
  CHECK(observed->state.accounts.at("erin").display_name == std::optional<std::string>("Erin"));
}

TEST_CASE("e2e: probe in appservice mode and in synapse-admin mode", "[e2e][appservice]") {
  SECTION("appservice, rate_limited: false") {
    AppserviceFixture fx(false);
    model::Settings settings = settings_for(fx.base_url(), model::ProvisioningMode::appservice);
    settings.appservice_rate_limited = false;
    adapters::HttpHomeserver homeserver(settings, "as_token_for_mxctl_e2e");
    auto caps = homeserver.probe();
    REQUIRE(caps);
    CHECK(caps->user_id == k_bot);
    CHECK_FALSE(caps->server_admin);
    CHECK(caps->rate_limits.state == adapters::RateLimits::State::unlimited);
  }
  SECTION("appservice, rate-limited") {
    AppserviceFixture fx(true);
    adapters::HttpHomeserver homeserver(settings_for(fx.base_url(), model::ProvisioningMode::appservice),
                                        "as_token_for_mxctl_e2e");
    auto caps = homeserver.probe();
    REQUIRE(caps);
    CHECK(caps->rate_limits.state == adapters::RateLimits::State::limited);
    CHECK(caps->rate_limits.description == "appservice sender @mxctl:mxsim.test is rate-limited on Synapse 1.67.0 "
                                           "(mxsim) (its registration does not say rate_limited: false)");
  }
  SECTION("synapse-admin: the override is read, and an override of 0 lifts the limit") {
    mxsim::Server server(mxsim::ServerOptions{k_server_name, "127.0.0.1", 0});
    server.start();
    server.homeserver().add_user("mxctl", "bot-password", true);
    std::string token = server.homeserver().issue_token(k_bot);
    adapters::HttpHomeserver homeserver(settings_for(server.base_url(), model::ProvisioningMode::synapse_admin),
                                        token);
    auto caps = homeserver.probe();
    REQUIRE(caps);
    CHECK(caps->server_admin);
    CHECK(caps->rate_limits.state == adapters::RateLimits::State::limited);
    CHECK(caps->rate_limits.description == "@mxctl:mxsim.test has no rate-limit override on Synapse 1.67.0 (mxsim)");

    httplib::Client admin(server.base_url());
    admin.set_bearer_token_auth(token);
    auto set = admin.Post("/_synapse/admin/v1/users/%40mxctl%3Amxsim.test/override_ratelimit",
                          R"({"messages_per_second": 0, "burst_count": 0})", "application/json");
    REQUIRE(set);
    REQUIRE(set->status == 200);
    auto again = homeserver.probe();
    REQUIRE(again);
    CHECK(again->rate_limits.state == adapters::RateLimits::State::unlimited);
  }
}

}  // namespace appservice_test
