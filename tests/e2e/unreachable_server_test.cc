// A linked account on a homeserver that cannot be reached: mxsim answers an
// invite to it as Synapse does (502 M_UNKNOWN "Can't connect to server"). A
// pass tries one invite to that server, skips the others without a request,
// says so once, converges everything else, and still exits non-zero.

#include <catch2/catch.hpp>

#include <regex>
#include <string>

#include "tests/e2e/fixture.h"

namespace unreachable_server_test {

namespace {

// Invites the journal saw after `after_seq` that were answered with `status`.
int invites_answered(mxsim::Homeserver& homeserver, std::uint64_t after_seq, int status) {
  int count = 0;
  for (const mxsim::JournalEntry& entry : homeserver.journal().entries(after_seq)) {
    if (entry.route == "POST /_matrix/client/v3/rooms/{roomId}/invite" && entry.status == status) {
      ++count;
    }
  }
  return count;
}

int occurrences(const std::string& text, const std::string& what) {
  int count = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++count;
  }
  return count;
}

}  // namespace

TEST_CASE("e2e: invites to an unreachable server are tried once per pass and reported once", "[e2e][unreachable]") {
  e2e::Fixture fx;
  fx.homeserver().federation().configure({{"other.example"}, 200});
  const auto plan = fx.mxctl({"plan", fx.manifests()});
  REQUIRE(plan.exit_code == 0);
  // dana's linked account is invited wherever dana is.
  const int dana_invites = occurrences(plan.out, "+ members[\"@dana:other.example\"]");
  REQUIRE(dana_invites >= 3);

  for (int pass = 1; pass <= 2; ++pass) {
    CAPTURE(pass);
    const std::uint64_t before = fx.homeserver().journal().last_seq();
    auto apply = fx.mxctl({"apply", fx.manifests(), "--yes"});
    INFO(apply.out << apply.err);
    CHECK(apply.exit_code == 1);
    // One request to the unreachable server, not one (or six) per room.
    CHECK(invites_answered(fx.homeserver(), before, 502) == 1);
    CHECK(occurrences(apply.err, "failed: invite @dana:other.example") == 1);
    CHECK(apply.err.find("attempts)") == std::string::npos);
    CHECK(occurrences(apply.err, ": skipped: server other.example unreachable") == dana_invites - 1);
    // Said once, with the server, the error and the count.
    CHECK(occurrences(apply.err, "Warning: server other.example is unreachable") == 1);
    CHECK(std::regex_search(apply.err, std::regex("Warning: server other\\.example is unreachable \\(unreachable: "
                                                  "invite @dana:other\\.example to [^ ]+: POST [^ ]+: HTTP 502 "
                                                  "M_UNKNOWN: Can't connect to server other\\.example\\); " +
                                                  std::to_string(dana_invites - 1) +
                                                  " more invites to its users skipped without a request")));
    CHECK(apply.out.find("Apply failed: 1 operation failed, " + std::to_string(dana_invites - 1) + " skipped.") !=
          std::string::npos);
  }
  // Everything else converged: what is left to do is dana's linked account.
  auto rest = fx.mxctl({"plan", fx.manifests()});
  INFO(rest.out);
  CHECK(occurrences(rest.out, "+ members[\"@dana:other.example\"]") == dana_invites);
  CHECK(occurrences(rest.out, "+ members[") == dana_invites);
  CHECK(rest.out.find("Plan: 0 to add, ") != std::string::npos);

  SECTION("once the server is back, the next pass invites the account everywhere") {
    fx.homeserver().federation().configure({});
    auto apply = fx.mxctl({"apply", fx.manifests(), "--yes"});
    INFO(apply.out << apply.err);
    CHECK(apply.exit_code == 0);
    CHECK(fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"}).exit_code == 0);
  }
}

}  // namespace unreachable_server_test
