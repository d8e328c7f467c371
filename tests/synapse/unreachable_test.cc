// A linked account on a server that cannot be reached: its invites fail
// (Synapse answers 502 after its own federation attempt), the pass says so
// with a non-zero exit, everything else converges, and the server is not
// tried again and again in every room the person is in.

#include <catch2/catch.hpp>

#include <regex>
#include <sstream>

#include "tests/synapse/fixture.h"
#include "tests/synapse/scenarios.h"
#include "tests/synapse/truth.h"

namespace unreachable_test {

using synapse_e2e::Fixture;

namespace {

const std::string k_unreachable = "@x:unreachable.invalid";
// mxctl's retry budget for one operation (controller/retry.h, max_attempts).
constexpr int k_attempts_per_operation = 6;

// Requests made to invite `user`, as the pass's report counts them: each
// settled operation's "(N attempts)", or one.
int invite_attempts(const std::string& output, const std::string& user) {
  std::istringstream lines(output);
  int attempts = 0;
  const std::regex counted(R"(\((\d+) attempts?\))");
  for (std::string line; std::getline(lines, line);) {
    if (line.find("invite " + user) == std::string::npos) {
      continue;
    }
    std::smatch match;
    if (line.rfind("failed: ", 0) == 0 || line.rfind("succeeded: ", 0) == 0) {
      attempts += std::regex_search(line, match, counted) ? std::stoi(match[1]) : 1;
    }
  }
  return attempts;
}

}  // namespace

TEST_CASE("synapse: invites to an unreachable server fail alone and are not retried in every room",
          "[synapse][unreachable]") {
  auto fx = Fixture::create();
  if (!fx) {
    return;
  }
  // dana is in riverside and harbor: four rooms.
  fx->edit("users.yaml", "  displayName: Dana Kowalski\n",
           "  displayName: Dana Kowalski\n  linkedAccounts:\n    - \"" + k_unreachable + "\"\n");
  const nlohmann::json desired = fx->desired();
  std::size_t rooms = 0;
  for (const auto& [key, room] : desired.at("rooms").items()) {
    const auto& members = room.at("members");
    rooms += std::find(members.begin(), members.end(), k_unreachable) != members.end();
  }
  REQUIRE(rooms == 4);

  auto pass = fx->mxctl({"reconcile", fx->manifests(), "--stats"});
  const std::string output = synapse_e2e::shown(pass);
  INFO(output);
  CHECK(pass.exit_code != 0);
  auto problems = synapse_e2e::convergence_problems(*fx, desired, {k_unreachable});
  INFO(synapse_e2e::lines(problems));
  CHECK(problems.empty());
  // One attempt in each room, and at most one operation's retries in all:
  // retrying a server that cannot be reached in every room multiplies the
  // wait by the number of rooms.
  const int attempts = invite_attempts(output, k_unreachable);
  CHECK(attempts >= 1);
  CHECK(attempts <= static_cast<int>(rooms) + k_attempts_per_operation - 1);
}

}  // namespace unreachable_test
