// The mxctl binary on manifests alone: validate and desired, no server.

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace cli_manifests_test {

namespace {

const std::string k_manifests = std::string(MXCTL_SOURCE_DIR) + "/manifests";

testing_support::ProcessResult mxctl(const std::vector<std::string>& args,
                                     const std::map<std::string, std::string>& env = {}) {
  std::vector<std::string> argv = {MXCTL_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return testing_support::run_process(argv, env);
}

}  // namespace

TEST_CASE("cli: validate accepts the example instance", "[e2e][cli]") {
  auto result = mxctl({"validate", k_manifests});
  CHECK(result.exit_code == 0);
  CHECK(result.err.empty());
  CHECK(result.out ==
        "The manifests are valid: 20 users, 3 communities, 3 councils, 2 coordination rooms, 1 power policy "
        "(29 documents in 5 files).\n");
}

TEST_CASE("cli: validate reports every problem with its position and exits 1", "[e2e][cli]") {
  testing_support::TempDir dir;
  std::string bad = dir.write("bad.yaml", R"(apiVersion: mxctl/v1
kind: Community
metadata:
  name: riverside
spec:
  name: Riverside
  topc: typo
---
apiVersion: mxctl/v1
kind: Comunity
metadata:
  name: harbor
)");
  auto result = mxctl({"validate", bad});
  CHECK(result.exit_code == 1);
  CHECK(result.out.empty());
  CHECK(result.err == bad + ":7:3: community \"riverside\": unknown field \"topc\" (did you mean \"topic\"?)\n" + bad +
                          ":10:7: document \"harbor\": unknown kind \"Comunity\" (did you mean \"Community\"?)\n2 problems found\n");
}

TEST_CASE("cli: desired compiles the example instance", "[e2e][cli]") {
  SECTION("json") {
    auto result = mxctl({"desired", k_manifests, "-o", "json"}, {{"MATRIX_SERVER_NAME", "example.org"}});
    REQUIRE(result.exit_code == 0);
    nlohmann::json state = nlohmann::json::parse(result.out);
    CHECK(state["accounts"].size() == 20);
    CHECK(state["rooms"].size() == 14);
    CHECK(state["rooms"]["community/riverside"]["kind"] == "space");
    CHECK(state["rooms"]["community/riverside"]["alias"] == "#mxctl.community.riverside:example.org");
    CHECK(state["rooms"]["council/disputes/discussion"]["encrypted"] == true);
  }
  SECTION("text ends with the summary") {
    auto result = mxctl({"desired", k_manifests}, {{"MATRIX_SERVER_NAME", "example.org"}});
    REQUIRE(result.exit_code == 0);
    CHECK(result.out.find("space \"community/riverside\" {\n") != std::string::npos);
    const std::string summary = "\nDesired state: 20 accounts, 14 rooms (6 spaces), 78 memberships.\n";
    REQUIRE(result.out.size() > summary.size());
    CHECK(result.out.substr(result.out.size() - summary.size()) == summary);
  }
  SECTION("without a server name it says which setting is missing") {
    auto result = mxctl({"desired", k_manifests}, {{"MATRIX_SERVER_NAME", ""}});
    CHECK(result.exit_code == 1);
    CHECK(result.err == "settings: no server name: set MATRIX_SERVER_NAME or serverName in the config\n"
                        "1 problem found\n");
  }
}

TEST_CASE("cli: usage errors exit non-zero with help", "[e2e][cli]") {
  auto none = mxctl({});
  CHECK(none.exit_code != 0);
  auto unknown = mxctl({"validate"});
  CHECK(unknown.exit_code != 0);
  CHECK(unknown.err.find("paths is required") != std::string::npos);
  auto help = mxctl({"--help"});
  CHECK(help.exit_code == 0);
  for (const char* command : {"validate", "desired", "plan", "apply", "reconcile"}) {
    CHECK(help.out.find(command) != std::string::npos);
  }
}

}  // namespace cli_manifests_test
