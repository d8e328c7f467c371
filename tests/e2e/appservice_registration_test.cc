// `mxctl appservice registration`: the file it writes is one the simulator
// loads as Synapse would, claims exactly the managed accounts and mxctl's
// aliases, and lets mxctl converge the example in appservice mode; written
// again, it keeps its tokens.

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "mxsim/appservice.h"
#include "mxsim/homeserver.h"
#include "mxsim/server.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace appservice_registration_test {

namespace {

const std::string k_server = "mxsim.test";

std::string read_text(const std::string& path) {
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("e2e: the registration mxctl writes is loaded by the homeserver and lets mxctl converge as an appservice",
          "[e2e][appservice]") {
  testing_support::TempDir dir;
  const std::string manifests = (dir.path() / "manifests").string();
  std::filesystem::copy(std::string(MXCTL_SOURCE_DIR) + "/manifests", manifests,
                        std::filesystem::copy_options::recursive);
  const std::string registration = (dir.path() / "registration.yaml").string();
  const std::map<std::string, std::string> no_server = {{"MATRIX_HOMESERVER_URL", ""},
                                                        {"MATRIX_SERVER_NAME", k_server},
                                                        {"MATRIX_BOT_USER_ID", "@mxctl:" + k_server},
                                                        {"MATRIX_BOT_ACCESS_TOKEN", ""},
                                                        {"MXCTL_CONFIG", ""}};
  auto written = testing_support::run_process(
      {MXCTL_BINARY, "appservice", "registration", manifests, "--out", registration}, no_server);
  INFO(written.out << written.err);
  REQUIRE(written.exit_code == 0);
  struct stat info {};
  REQUIRE(stat(registration.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);

  const mxsim::AppService service = mxsim::load_registration_file(registration);
  CHECK(service.sender(k_server) == "@mxctl:" + k_server);
  CHECK_FALSE(service.rate_limited);
  CHECK(service.as_token.size() == 43);
  CHECK(service.hs_token.size() == 43);
  CHECK(service.as_token != service.hs_token);
  // The tokens are in the file only.
  CHECK(written.out.find(service.as_token) == std::string::npos);
  CHECK(written.err.find(service.as_token) == std::string::npos);
  CHECK(written.err.find(service.hs_token) == std::string::npos);
  // Exactly the managed accounts, and mxctl's aliases, exclusively.
  CHECK(service.exclusive_user("@alice:" + k_server));
  CHECK_FALSE(service.exclusive_user("@alice2:" + k_server));
  CHECK_FALSE(service.exclusive_user("@alice:" + k_server + ".evil"));
  CHECK_FALSE(service.exclusive_user("@admin:" + k_server));
  CHECK(service.exclusive_alias("#mxctl.community.riverside:" + k_server));
  CHECK_FALSE(service.exclusive_alias("#general:" + k_server));
  CHECK_FALSE(service.exclusive_alias("#mxctlXcommunity:" + k_server));

  SECTION("mxctl converges the example through it") {
    mxsim::Server server(mxsim::ServerOptions{k_server, "127.0.0.1", 0});
    server.homeserver().add_appservice(service);
    server.start();
    const std::string config = (dir.path() / "mxctl.yaml").string();
    std::ofstream(config) << "homeserverUrl: " << server.base_url() << "\nserverName: " << k_server
                          << "\nprovisioning: appservice\nappserviceRegistration: " << registration << "\n";
    std::map<std::string, std::string> env = no_server;
    env["MATRIX_BOT_USER_ID"] = "";
    env["MXCTL_STATE"] = (dir.path() / "mxctl.db").string();
    auto apply = testing_support::run_process({MXCTL_BINARY, "--config", config, "apply", manifests, "--yes"}, env);
    INFO(apply.out << apply.err);
    REQUIRE(apply.exit_code == 0);
    auto plan = testing_support::run_process(
        {MXCTL_BINARY, "--config", config, "plan", manifests, "--detailed-exitcode"}, env);
    INFO(plan.out << plan.err);
    CHECK(plan.exit_code == 0);
  }
  SECTION("written again after an account is added, it keeps its tokens and claims the new account") {
    std::ofstream(manifests + "/zoe.yaml")
        << "apiVersion: mxctl/v1\nkind: User\nmetadata:\n  name: zoe\nspec:\n  displayName: Zoe\n";
    auto again = testing_support::run_process(
        {MXCTL_BINARY, "appservice", "registration", manifests, "--out", registration}, no_server);
    INFO(again.out << again.err);
    REQUIRE(again.exit_code == 0);
    const mxsim::AppService rewritten = mxsim::load_registration_file(registration);
    CHECK(rewritten.as_token == service.as_token);
    CHECK(rewritten.hs_token == service.hs_token);
    CHECK(rewritten.exclusive_user("@zoe:" + k_server));
  }
  SECTION("a file there that is not a registration is left alone") {
    std::ofstream(registration, std::ios::trunc) << "not: a registration\n";
    auto refused = testing_support::run_process(
        {MXCTL_BINARY, "appservice", "registration", manifests, "--out", registration}, no_server);
    CHECK(refused.exit_code == 1);
    CHECK(read_text(registration) == "not: a registration\n");
  }
}

}  // namespace appservice_registration_test
