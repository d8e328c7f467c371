// Suspension on homeservers that cannot do it, over HTTP against mxsim set up
// like older Synapse releases: a suspension is reported as done only when the
// server shows it afterwards, and a server with no way to suspend gets one
// plain warning per plan instead of a suspension planned on every pass.

#include <catch2/catch.hpp>

#include "adapters/homeserver/http_homeserver.h"
#include "model/plan.h"
#include "model/settings.h"
#include "tests/e2e/fixture.h"

namespace suspension_test {

namespace {

const std::string k_grace = "@grace:mxsim.test";  // on the disputes council, level 50 in riverside

testing_support::ProcessResult run(const e2e::Fixture& fx, std::vector<std::string> args) {
  auto result = fx.mxctl(std::move(args));
  INFO(result.out << result.err);
  return result;
}

void deactivate_grace(const e2e::Fixture& fx) {
  fx.edit("users.yaml", "  name: grace\nspec:\n", "  name: grace\nspec:\n  deactivated: true\n");
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

}  // namespace

TEST_CASE("e2e suspension: a server with neither the suspend API nor `locked` gets one warning, and the pass converges",
          "[e2e][lifecycle][suspension]") {
  e2e::Fixture fx;
  fx.homeserver().mutable_settings().suspend_api = false;  // like Synapse 1.67
  fx.homeserver().mutable_settings().locked_flag = false;
  REQUIRE(run(fx, {"apply", fx.manifests(), "--yes"}).exit_code == 0);
  deactivate_grace(fx);

  auto plan = run(fx, {"plan", fx.manifests()});
  REQUIRE(plan.exit_code == 0);
  CHECK(plan.out.find("# account.grace will be suspended") == std::string::npos);
  CHECK(count_of(plan.out, "Warning: cannot suspend " + k_grace + ":") == 1);
  CHECK(plan.out.find("deactivatedAccounts: deactivate") != std::string::npos);

  // The demotion and the council kick still happen; nothing claims a suspension.
  auto applied = run(fx, {"apply", fx.manifests(), "--yes"});
  REQUIRE(applied.exit_code == 0);
  CHECK(applied.err.find("suspend account") == std::string::npos);
  {
    auto lock = fx.homeserver().read_lock();
    const mxsim::User* user = fx.homeserver().state().find_user(k_grace);
    REQUIRE(user != nullptr);
    CHECK_FALSE(user->suspended);
    CHECK_FALSE(user->locked);
    CHECK_FALSE(user->deactivated);
  }

  // Converged: nothing to do, and the warning says so once again.
  auto again = run(fx, {"plan", fx.manifests(), "--detailed-exitcode"});
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("No changes.") != std::string::npos);
  CHECK(count_of(again.out, "Warning: cannot suspend") == 1);
  auto json = run(fx, {"plan", fx.manifests(), "--format", "json"});
  auto parsed = nlohmann::json::parse(json.out);
  REQUIRE(parsed.contains("warnings"));
  CHECK(parsed["warnings"].size() == 1);

  SECTION("deactivatedAccounts: deactivate has a way, so there is no warning") {
    const std::string config = fx.scratch("mxctl.yaml");
    std::ofstream(config) << "deactivatedAccounts: deactivate\n";
    auto deactivating = run(fx, {"--config", config, "plan", fx.manifests()});
    CHECK(deactivating.out.find("Warning: cannot suspend") == std::string::npos);
    CHECK(deactivating.out.find("# account.grace will be suspended") != std::string::npos);
  }
}

TEST_CASE("e2e suspension: without the suspend API the `locked` flag is used and read back", "[e2e][lifecycle][suspension]") {
  e2e::Fixture fx;
  fx.homeserver().mutable_settings().suspend_api = false;  // Synapse 1.93 to 1.113
  REQUIRE(run(fx, {"apply", fx.manifests(), "--yes"}).exit_code == 0);
  deactivate_grace(fx);
  auto applied = run(fx, {"apply", fx.manifests(), "--yes"});
  REQUIRE(applied.exit_code == 0);
  CHECK(applied.out.find("Warning: cannot suspend") == std::string::npos);
  {
    auto lock = fx.homeserver().read_lock();
    CHECK(fx.homeserver().state().find_user(k_grace)->locked);
  }
  CHECK(run(fx, {"plan", fx.manifests(), "--detailed-exitcode"}).exit_code == 0);
}

TEST_CASE("e2e suspension: a suspension the server accepts but does not show is a failure, not a success",
          "[e2e][lifecycle][suspension]") {
  e2e::Fixture fx;
  REQUIRE(run(fx, {"apply", fx.manifests(), "--yes"}).exit_code == 0);
  fx.homeserver().mutable_settings().suspend_api = false;
  fx.homeserver().mutable_settings().locked_flag = false;

  model::Settings settings;
  settings.homeserver_url = fx.server().base_url();
  settings.server_name = e2e::k_server_name;
  settings.bot_user_id = e2e::k_bot;
  adapters::HttpHomeserver homeserver(settings, fx.token());
  REQUIRE(homeserver.probe());
  model::Operation suspend;
  suspend.kind = model::Operation::Kind::suspend_account;
  suspend.account_key = "grace";
  suspend.user_id = k_grace;
  auto done = homeserver.execute(suspend, adapters::ExecutionContext{});
  REQUIRE_FALSE(done);
  CHECK(done.error().kind == model::Error::Kind::invalid);
  CHECK(done.error().message.find("accepted the request but the account is not suspended") != std::string::npos);
}

}  // namespace suspension_test
