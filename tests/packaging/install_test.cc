// `cmake --install` into a temporary DESTDIR: every file lands where
// packaging/README.md says, and nothing else is installed.

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>

#include "tests/packaging/installed_tree.h"

namespace install_test {

namespace {

using namespace packaging_test;

bool executable(const std::filesystem::path& path) {
  auto perms = std::filesystem::status(path).permissions();
  return (perms & std::filesystem::perms::owner_exec) != std::filesystem::perms::none &&
         (perms & std::filesystem::perms::others_exec) != std::filesystem::perms::none;
}

// How packaging/README.md names an install path: relative to the prefix
// ("share/man/man1/mxctl.1"), or whole when it lies outside the prefix.
std::string as_documented(const std::string& install_path) {
  auto relative = std::filesystem::path(install_path).lexically_relative(MXCTL_INSTALL_PREFIX);
  if (relative.empty() || *relative.begin() == "..") {
    return install_path;
  }
  return relative.string();
}

}  // namespace

TEST_CASE("install: every file lands where packaging/README.md says, and nothing else", "[packaging]") {
  if (!MXCTL_MAN_PAGES) {
    FAIL("help2man was not found when the build was configured, so no man pages are installed: "
         "run scripts/install-deps and configure again");
  }
  InstalledTree tree;
  const std::vector<std::string> expected = {
      installed::k_mxctl,     installed::k_mxsim,           installed::k_mxctl_man,
      installed::k_mxsim_man, installed::k_service,         installed::k_reconcile_service,
      installed::k_reconcile_timer, installed::k_cron,     installed::k_env_example};
  std::vector<std::string> sorted = expected;
  std::sort(sorted.begin(), sorted.end());
  CHECK(tree.files() == sorted);

  CHECK(executable(tree.at(installed::k_mxctl)));
  CHECK(executable(tree.at(installed::k_mxsim)));

  const std::string readme = read_file(std::string(MXCTL_SOURCE_DIR) + "/packaging/README.md");
  REQUIRE(!readme.empty());
  for (const std::string& path : expected) {
    INFO("packaging/README.md should name " << as_documented(path));
    CHECK(readme.find(as_documented(path)) != std::string::npos);
  }
}

TEST_CASE("install: the mxsim component is the simulator and its man page", "[packaging]") {
  // CI that wants only the simulator installs this component (mxsim/README.md).
  InstalledTree tree("mxsim");
  std::vector<std::string> expected = {installed::k_mxsim};
  if (MXCTL_MAN_PAGES) {
    expected.push_back(installed::k_mxsim_man);
  }
  std::sort(expected.begin(), expected.end());
  CHECK(tree.files() == expected);
}

}  // namespace install_test
