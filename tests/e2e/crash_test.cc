// mxctl killed halfway: SIGKILL an apply at random points, twenty times in a
// row, each time letting the next pass take over the dead pass's lock and
// carry on from whatever the homeserver and the state store hold. At the
// end the instance converges with no duplicate room, no duplicate message
// and no orphan.

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include "tests/e2e/crash_support.h"
#include "tests/e2e/fixture.h"

namespace crash_test {

namespace {

using e2e::Fixture;
using Clock = std::chrono::steady_clock;

constexpr int k_kills = 20;
// Requests answer this much later, so an apply lasts long enough to be
// interrupted anywhere, and a kill lands within the request it aims at.
constexpr std::int64_t k_request_delay_ms = 3;
// A pass that takes this long has hung: kill it and fail.
constexpr auto k_pass_timeout = std::chrono::seconds(30);

int count_lines_starting(const std::string& text, const std::string& prefix) {
  int count = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    count += line.rfind(prefix, 0) == 0 ? 1 : 0;
  }
  return count;
}

}  // namespace

TEST_CASE("e2e: apply killed at 20 random points recovers each time and converges without duplicates or orphans",
          "[e2e][crash]") {
  Fixture fx;
  const std::uint64_t seed = e2e::crash_seed();
  WARN("crash seed: " << seed << " (rerun with MXCTL_CRASH_SEED=" << seed << ")");
  INFO("crash seed: " << seed);
  std::mt19937_64 rng(seed);
  mxsim::Journal& journal = fx.homeserver().journal();

  e2e::slow_every_request(fx.homeserver(), k_request_delay_ms);

  int kills = 0;
  int finished = 0;
  int grown = 0;
  std::string history;
  for (int run = 1; kills < k_kills && run <= 3 * k_kills; ++run) {
    INFO(history);
    // The next pass after a kill must get going: the dead pass's lock is
    // taken over. A dry run observes exactly what the apply will observe
    // and lists every operation the apply will attempt, each at least one
    // request: together they bound the apply's requests from below.
    std::uint64_t before = journal.last_seq();
    auto dry = fx.mxctl({"apply", fx.manifests(), "--dry-run"});
    INFO("dry run before run " << run << ":\n" << dry.out << dry.err);
    REQUIRE(dry.exit_code == 0);
    std::uint64_t observe_requests = journal.last_seq() - before;
    int operations = count_lines_starting(dry.err, "would_run: ");
    if (operations == 0) {
      // Converged: give the next apply something to do.
      fx.write_manifest("crash-" + std::to_string(grown) + ".yaml", e2e::more_work("crash", grown));
      ++grown;
      continue;
    }
    const std::uint64_t expected = observe_requests + static_cast<std::uint64_t>(operations);
    const std::uint64_t kill_after = std::uniform_int_distribution<std::uint64_t>(1, expected - 1)(rng);

    const std::uint64_t start = journal.last_seq();
    const auto started = Clock::now();
    e2e::Child child({MXCTL_BINARY, "apply", fx.manifests(), "--yes"}, fx.env(), fx.scratch("apply.out"),
                     fx.scratch("apply.err"));
    while (child.running() && journal.last_seq() < start + kill_after && Clock::now() - started < k_pass_timeout) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    const bool hung = Clock::now() - started >= k_pass_timeout;
    const bool killed = child.running();
    const int exit_code = child.kill_and_wait();
    const std::uint64_t made = journal.last_seq() - start;
    history += "run " + std::to_string(run) + ": " + std::to_string(operations) + " operations, kill after request " +
               std::to_string(kill_after) + " of at least " + std::to_string(expected) + ": " +
               (killed ? "killed" : "finished first") + " after " + std::to_string(made) + " requests (exit " +
               std::to_string(exit_code) + ")\n";
    INFO(history << child.out() << child.err());
    REQUIRE_FALSE(hung);
    if (killed) {
      ++kills;
      CHECK(exit_code == 128 + SIGKILL);
    } else {
      // Finishing before the kill point is fine, failing is not.
      ++finished;
      CHECK(exit_code == 0);
    }
  }
  INFO(history);
  REQUIRE(kills == k_kills);
  CHECK(finished <= k_kills / 2);

  fx.homeserver().faults().clear();
  auto apply = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(apply.out << apply.err);
  CHECK(apply.exit_code == 0);
  CHECK(apply.err.find("held the lock") == std::string::npos);
  e2e::check_converged_without_duplicates(fx);
}

TEST_CASE("e2e: the ownership audit reports a duplicate room, an orphan, an unmarked room and a repeated message",
          "[e2e][crash]") {
  // A control for the crash and fault tests: their final audit would pass
  // vacuously if it could not see what it is meant to catch.
  Fixture fx;
  auto apply = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(apply.out << apply.err);
  REQUIRE(apply.exit_code == 0);
  const std::vector<e2e::DesiredRoom> desired = e2e::desired_rooms(fx);
  REQUIRE(e2e::ownership_problems(e2e::audit(fx.homeserver()), desired) == std::vector<std::string>{});

  auto marked_room = [&](const std::string& key) {
    nlohmann::json body = {{"initial_state",
                            {{{"type", e2e::k_marker_type},
                              {"state_key", ""},
                              {"content", {{"key", key}, {"instance", "default"}}}}}}};
    return fx.as_bot("POST", "/_matrix/client/v3/createRoom", body);
  };
  REQUIRE(marked_room("community/harbor").status == 200);
  REQUIRE(marked_room("community/gone").status == 200);
  REQUIRE(fx.as_bot("POST", "/_matrix/client/v3/createRoom", nlohmann::json::object()).status == 200);
  std::string dm = e2e::audit(fx.homeserver()).marked.at("dm/request-8841").at(0);
  REQUIRE(fx.as_bot("PUT", "/_matrix/client/v3/rooms/" + mxsim::percent_encode(dm) + "/send/m.room.message/again",
                    {{"msgtype", "m.text"}, {"body", "Request accepted! once more"}})
              .status == 200);

  std::vector<std::string> problems = e2e::ownership_problems(e2e::audit(fx.homeserver()), desired);
  INFO(Catch::Detail::stringify(problems));
  REQUIRE(problems.size() == 4);
  CHECK(problems[0] == "community/harbor: 2 rooms carry its marker");
  CHECK(problems[1] == "dm/request-8841 (" + dm + "): the bot sent 2 messages, expected 1");
  CHECK(problems[2] == "community/gone: 1 marked rooms not in the desired state");
  CHECK(problems[3].find(": created by the bot without a marker") != std::string::npos);
}

}  // namespace crash_test
