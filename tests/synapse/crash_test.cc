// mxctl killed halfway through applying the example to a real Synapse:
// SIGKILL an apply at several points, each next apply carrying on from
// whatever the server holds. Then one apply converges with no duplicate
// room (every marker key on exactly one room, each alias on the marked
// room), none refused as "not ours", and an empty plan.

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "tests/support/child_process.h"
#include "tests/synapse/fixture.h"
#include "tests/synapse/truth.h"

namespace crash_test {

using synapse_e2e::Fixture;
using Clock = std::chrono::steady_clock;

namespace {

// When each round's apply is killed, from its start. The first rounds land
// in room creation (spaces, then their rooms, then the coordination rooms),
// the later ones in invites and levels; a round with nothing left to do may
// finish first.
const std::vector<int> k_kill_after_ms = {300, 450, 600, 750, 900, 1100, 1400, 1800};

// Six more coordination rooms, created last, so that more rounds are killed
// while a createRoom is in flight.
std::string more_rooms() {
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"alice", "erin"}, {"frank", "grace"}, {"ivan", "judy"}, {"leo", "mia"}, {"olivia", "peggy"}, {"quinn", "rupert"}};
  std::string text;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const std::string id = std::to_string(i + 1);
    text += "---\napiVersion: mxctl/v1\nkind: CoordinationRoom\nmetadata:\n  name: request-crash-" + id +
            "\nspec:\n  between: [" + pairs[i].first + ", " + pairs[i].second + "]\n  request: \"crash-" + id + "\"\n";
  }
  return text;
}
// An apply that takes this long has hung.
constexpr auto k_round_timeout = std::chrono::seconds(90);
// What mxctl says when it refuses a room that carries no marker of its own.
const std::string k_refusal = "will not take it over";

}  // namespace

TEST_CASE("synapse: apply killed at several points resumes and converges without duplicate rooms",
          "[synapse][crash]") {
  auto fx = Fixture::create();
  if (!fx) {
    return;
  }
  fx->write_manifest("crash.yaml", more_rooms());
  const nlohmann::json desired = fx->desired();
  std::string history;
  int killed = 0;
  for (std::size_t round = 0; round < k_kill_after_ms.size(); ++round) {
    const auto started = Clock::now();
    const auto kill_at = started + std::chrono::milliseconds(k_kill_after_ms[round]);
    testing_support::ChildProcess apply(fx->argv({"apply", fx->manifests(), "--yes"}), fx->env(),
                                        fx->scratch("apply.out"), fx->scratch("apply.err"));
    while (apply.running() && Clock::now() < kill_at) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const bool was_running = apply.running();
    const int exit_code = apply.kill_and_wait();
    const std::string output = apply.out() + apply.err();
    history += "round " + std::to_string(round + 1) + ": " +
               (was_running ? "killed after " + std::to_string(k_kill_after_ms[round]) + " ms"
                            : "finished first, exit " + std::to_string(exit_code)) +
               "\n";
    INFO(history << output);
    REQUIRE(Clock::now() - started < k_round_timeout);
    CHECK(output.find(k_refusal) == std::string::npos);
    if (was_running) {
      ++killed;
    } else {
      CHECK(exit_code == 0);
    }
  }
  INFO(history);
  CHECK(killed >= 4);

  auto final_apply = fx->mxctl({"apply", fx->manifests(), "--yes"});
  INFO(synapse_e2e::shown(final_apply));
  CHECK(final_apply.exit_code == 0);
  CHECK(synapse_e2e::shown(final_apply).find(k_refusal) == std::string::npos);

  auto census = synapse_e2e::marker_census(*fx);
  for (const auto& [key, room] : desired.at("rooms").items()) {
    INFO(key);
    CHECK(census[key].size() == 1);
    auto aliased = fx->server().room_of_alias(room.at("alias").get<std::string>());
    REQUIRE(aliased);
    CHECK(std::find(census[key].begin(), census[key].end(), *aliased) != census[key].end());
  }
  INFO("rooms the bot made without a marker: " << nlohmann::json(census[""]).dump());
  CHECK(census[""].empty());
  auto problems = synapse_e2e::convergence_problems(*fx, desired);
  INFO(synapse_e2e::lines(problems));
  CHECK(problems.empty());
  auto plan = fx->plan();
  INFO(synapse_e2e::shown(plan));
  CHECK(plan.exit_code == 0);
}

}  // namespace crash_test
