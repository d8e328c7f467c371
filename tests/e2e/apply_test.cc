// The mxctl binary against mxsim over loopback: apply the example instance,
// converge, and make targeted changes.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>

#include "tests/mxsim/homeserver.h"
#include "tests/mxsim/server.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace {

const std::string k_server_name = "mxsim.test";
const std::string k_bot = "@mxctl:mxsim.test";

// A running simulator with the bot provisioned as a server admin, a copy of
// the example manifests to edit, and a state store path.
class Fixture {
 public:
  Fixture() : m_server(mxsim::ServerOptions{k_server_name, "127.0.0.1", 0}) {
    m_server.start();
    m_server.homeserver().add_user("mxctl", "bot-password", true);
    m_token = m_server.homeserver().issue_token(k_bot);
    std::filesystem::copy(std::string(MXCTL_SOURCE_DIR) + "/manifests", manifests(),
                          std::filesystem::copy_options::recursive);
  }

  std::string manifests() const { return (m_dir.path() / "manifests").string(); }
  std::string state() const { return (m_dir.path() / "mxctl.db").string(); }

  testing_support::ProcessResult mxctl(std::vector<std::string> args) const {
    std::vector<std::string> argv = {MXCTL_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing_support::run_process(argv, {{"MATRIX_HOMESERVER_URL", m_server.base_url()},
                                               {"MATRIX_SERVER_NAME", k_server_name},
                                               {"MATRIX_BOT_USER_ID", k_bot},
                                               {"MATRIX_BOT_ACCESS_TOKEN", m_token},
                                               {"MXCTL_STATE", state()}});
  }

  // Replaces the first occurrence of `from` with `to` in a manifest file.
  void edit(const std::string& file, const std::string& from, const std::string& to) const {
    std::string path = manifests() + "/" + file;
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto pos = text.find(from);
    REQUIRE(pos != std::string::npos);
    text.replace(pos, from.size(), to);
    std::ofstream(path, std::ios::trunc) << text;
  }

  mxsim::Server& server() { return m_server; }

 private:
  testing_support::TempDir m_dir;
  mxsim::Server m_server;
  std::string m_token;
};

// "Requests: 12 (12 reads, 0 writes, ...": the writes a pass made.
int writes_in(const std::string& stats) {
  std::smatch match;
  REQUIRE(std::regex_search(stats, match, std::regex(R"((\d+) writes)")));
  return std::stoi(match[1]);
}

}  // namespace

TEST_CASE("e2e: apply converges the example instance and a second pass changes nothing", "[e2e][apply]") {
  Fixture fx;
  auto first = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  CHECK(first.out.find("Plan: 34 to add, 0 to change, 0 to destroy.") != std::string::npos);
  CHECK(first.out.find("Apply complete! Resources: 34 added, 0 changed, 0 destroyed.") != std::string::npos);

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
    CHECK(plan.out == "No changes. The homeserver matches the desired state.\n");
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
