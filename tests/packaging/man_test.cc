// The man pages help2man made from the built binaries, as installed.

#include <catch2/catch.hpp>

#include <sstream>

#include "tests/packaging/installed_tree.h"
#include "tests/packaging/mxctl_cli.h"

namespace man_test {

namespace {

using namespace packaging_test;

// The first request of a roff page, past its comment lines.
std::string first_request(const std::string& page) {
  std::istringstream in(page);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(".\\\"", 0) != 0) {
      return line;
    }
  }
  return "";
}

void require_man_pages() {
  if (!MXCTL_MAN_PAGES) {
    FAIL("help2man was not found when the build was configured, so there are no man pages: "
         "run scripts/install-deps and configure again");
  }
}

}  // namespace

TEST_CASE("man: mxctl.1 has every subcommand and variable, and the sections --help lacks", "[packaging]") {
  require_man_pages();
  InstalledTree tree;
  const std::string page = tree.read(installed::k_mxctl_man);
  CHECK(first_request(page).rfind(".TH MXCTL \"1\"", 0) == 0);
  CHECK_THAT(page, Catch::Contains("\"mxctl " MXCTL_VERSION "\""));
  for (const char* section : {".SH NAME\nmxctl \\- ", ".SH SYNOPSIS", ".SH DESCRIPTION", ".SH OPTIONS",
                              ".SH ENVIRONMENT", ".SH FILES", ".SH \"EXIT STATUS\"", ".SH \"SEE ALSO\""}) {
    CHECK_THAT(page, Catch::Contains(section));
  }
  const std::string mxctl = tree.at(installed::k_mxctl).string();
  for (const std::string& subcommand : subcommands(mxctl)) {
    INFO("subcommand " << subcommand);
    CHECK_THAT(page, Catch::Contains("\n" + subcommand + "\n"));
  }
  for (const std::string& name : environment_variables(mxctl)) {
    INFO("variable " << name);
    CHECK_THAT(page, Catch::Contains(".B " + name + "\n"));
  }
}

TEST_CASE("man: mxsim.1 has its synopsis, options and exit status", "[packaging]") {
  require_man_pages();
  InstalledTree tree;
  const std::string page = tree.read(installed::k_mxsim_man);
  CHECK(first_request(page).rfind(".TH MXSIM \"1\"", 0) == 0);
  CHECK_THAT(page, Catch::Contains("\"mxsim " MXCTL_VERSION "\""));
  CHECK_THAT(page, Catch::Contains(".SH SYNOPSIS\n.B mxsim\n"));
  CHECK_THAT(page, Catch::Contains("\\-\\-listen"));
  CHECK_THAT(page, Catch::Contains(".SH \"EXIT STATUS\""));
}

}  // namespace man_test
