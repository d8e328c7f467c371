#pragma once
// What the kill-and-restart tests share: the seed of their random kill
// points (printed, and settable to rerun a failure), requests slowed so a
// kill lands inside the work it aims at, and more work for a converged
// instance.

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "mxsim/faults.h"
#include "mxsim/homeserver.h"
#include "tests/e2e/fixture.h"

namespace e2e {

/// MXCTL_CRASH_SEED when set, else a fresh random seed.
inline std::uint64_t crash_seed() {
  if (const char* fixed = std::getenv("MXCTL_CRASH_SEED"); fixed != nullptr && *fixed != '\0') {
    return std::strtoull(fixed, nullptr, 10);
  }
  return std::random_device{}();
}

/// Every request the simulator answers from now on comes `delay_ms` late.
inline void slow_every_request(mxsim::Homeserver& homeserver, std::int64_t delay_ms) {
  mxsim::FaultRule slow;
  slow.times = -1;
  slow.delay_ms = delay_ms;
  homeserver.faults().add(slow);
}

/// One more community (space and general room) and coordination room (with
/// its once-message), named `<prefix>-<n>`: work again for a converged
/// instance.
inline std::string more_work(const std::string& prefix, int n) {
  const std::vector<std::string> people = {"alice", "bob", "carol", "dana", "erin", "frank", "grace", "heidi"};
  auto person = [&](int i) { return people[static_cast<std::size_t>(i) % people.size()]; };
  const std::string id = prefix + "-" + std::to_string(n);
  return "---\napiVersion: mxctl/v1\nkind: Community\nmetadata:\n  name: " + id + "\nspec:\n  name: Community " + id +
         "\n  topic: Made while mxctl was being killed\n  members:\n" + "    - user: " + person(n) +
         "\n      trust: 40\n      role: admin\n" + "    - user: " + person(n + 1) + "\n      trust: 3\n" +
         "    - user: " + person(n + 2) + "\n      trust: 12\n" +
         "---\napiVersion: mxctl/v1\nkind: CoordinationRoom\nmetadata:\n  name: request-" + id +
         "\nspec:\n  between: [" + person(n + 3) + ", " + person(n + 4) + "]\n  request: \"" + id + "\"\n";
}

/// The end every kill-and-restart test must reach: a plan with no changes,
/// and on the server every desired room once, with its message at most
/// once, and no orphan.
inline void check_converged_without_duplicates(Fixture& fx) {
  auto plan = fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"});
  INFO(plan.out << plan.err);
  CHECK(plan.exit_code == 0);
  CHECK(plan.out == "No changes. The homeserver matches the desired state.\n");
  const std::vector<DesiredRoom> desired = desired_rooms(fx);
  ServerAudit audit = e2e::audit(fx.homeserver());
  CHECK(ownership_problems(audit, desired) == std::vector<std::string>{});
  CHECK(audit.rooms == desired.size());
}

}  // namespace e2e
