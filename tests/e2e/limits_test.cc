// The mxctl binary against mxsim with input the homeserver would refuse:
// every such value is a validation error with its position, and the pass
// stops before its first request, so nothing is half-applied.

#include <catch2/catch.hpp>

#include "tests/e2e/fixture.h"

namespace limits_test {

using e2e::Fixture;

TEST_CASE("e2e: an over-long display name makes apply refuse before any request reaches the homeserver",
          "[e2e][limits]") {
  Fixture fx;
  // 1 MB: Synapse would take 20 writes before refusing the profile with 413.
  fx.edit("users.yaml", "  displayName: Alice Moreau\n", "  displayName: " + std::string(1 << 20, 'A') + "\n");
  const uint64_t before = fx.homeserver().journal().last_seq();
  auto apply = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(apply.out << apply.err.substr(0, 2000));
  CHECK(apply.exit_code == 1);
  CHECK(apply.err == fx.manifests() +
                         "/users.yaml:10:16: user \"alice\": displayName is 1048576 characters long; Synapse accepts "
                         "at most 256\n1 problem found\n");
  CHECK(fx.homeserver().journal().entries(before).empty());
  CHECK(fx.homeserver().journal().writes() == 0);
}

TEST_CASE("e2e: a user ID over 255 bytes with the server's name is refused before any request", "[e2e][limits]") {
  Fixture fx;
  // "@" + 242 + ":mxsim.test" = 254 bytes: fine; one more is not.
  fx.edit("users.yaml", "  name: bob\n", "  name: bob\nspec:\n  localpart: " + std::string(244, 'b') + "\n");
  const uint64_t before = fx.homeserver().journal().last_seq();
  auto plan = fx.mxctl({"plan", fx.manifests()});
  CHECK(plan.exit_code == 1);
  CHECK(plan.err.find("/users.yaml:20:14: user \"bob\": user id \"@bbbb") != std::string::npos);
  CHECK(plan.err.find("would be 256 bytes long; the spec allows at most 255\n") != std::string::npos);
  CHECK(fx.homeserver().journal().entries(before).empty());
}

TEST_CASE("e2e: validate rejects a name that would drive the terminal, at its position, escaped", "[e2e][limits]") {
  Fixture fx;
  fx.edit("communities.yaml", "  name: Riverside Commons\n", "  name: \"Riverside\\e[2J\\nCommons\"\n");
  auto validate = fx.mxctl({"validate", fx.manifests()});
  CHECK(validate.exit_code == 1);
  CHECK(validate.err == fx.manifests() +
                            "/communities.yaml:11:9: community \"riverside\": invalid name: contains a control "
                            "character (U+001B)\n1 problem found\n");
}

TEST_CASE("e2e: a homeserver's error message is printed escaped, never raw", "[e2e][limits]") {
  Fixture fx;
  mxsim::FaultRule rule;
  rule.method = "POST";
  rule.path_prefix = "/_matrix/client/v3/createRoom";
  rule.times = -1;
  rule.status = 403;
  rule.errcode = "M_FORBIDDEN";
  rule.error = "no\x1b[2J\x1b]0;pwned\x07\nfake: line";
  fx.homeserver().faults().add(rule);
  auto apply = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(apply.err);
  CHECK(apply.exit_code == 1);
  CHECK(apply.err.find("no\\u001b[2J\\u001b]0;pwned\\u0007\\nfake: line") != std::string::npos);
  CHECK(apply.err.find('\x1b') == std::string::npos);
  CHECK(apply.err.find('\x07') == std::string::npos);
}

}  // namespace limits_test
