// apply on a terminal asks first; only "yes" applies. The terminal is real:
// util-linux's script(1) runs mxctl on a pseudo-terminal fed from a pipe.

#include <catch2/catch.hpp>

#include "tests/e2e/fixture.h"

namespace confirm_test {

namespace {

// Runs `mxctl apply <manifests>` on a pseudo-terminal whose keyboard input is
// `typed`, with the fixture's environment.
testing_support::ProcessResult apply_on_terminal(e2e::Fixture& fx, const std::string& typed) {
  std::string command = std::string(MXCTL_BINARY) + " apply " + fx.manifests();
  std::string shell = "printf '" + typed + "' | script -qec '" + command + "' /dev/null";
  return testing_support::run_process({"/bin/sh", "-c", shell}, fx.env());
}

}  // namespace

TEST_CASE("e2e: apply on a terminal applies only after \"yes\"", "[e2e][confirm]") {
  e2e::Fixture fx;
  SECTION("anything else cancels and changes nothing") {
    auto cancelled = apply_on_terminal(fx, "no\\n");
    INFO(cancelled.out << cancelled.err);
    CHECK(cancelled.exit_code == 1);
    CHECK(cancelled.out.find("Only 'yes' will be accepted to approve.") != std::string::npos);
    CHECK(cancelled.out.find("Apply cancelled.") != std::string::npos);
    CHECK(fx.homeserver().journal().writes() == 0);
  }
  SECTION("yes applies") {
    auto applied = apply_on_terminal(fx, "yes\\n");
    INFO(applied.out << applied.err);
    CHECK(applied.exit_code == 0);
    CHECK(applied.out.find("Apply complete! Resources: 33 added, 0 changed, 0 destroyed.") != std::string::npos);
    CHECK(fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"}).exit_code == 0);
  }
}

}  // namespace confirm_test
