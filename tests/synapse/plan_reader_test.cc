// `mxctl plan` only reads: against a real Synapse where the example was
// applied, a plan with an empty state store (so everything is read afresh,
// m.direct included) acts as no one. No managed account, nor the bot, gains
// a device, and no account gains a session: our Synapse records requests
// made with an admin's login-as token against the person
// (track_puppeted_user_ips), which is how mxctl reaches a person's data.

#include <catch2/catch.hpp>

#include "tests/synapse/fixture.h"
#include "tests/synapse/truth.h"

namespace plan_reader_test {

using synapse_e2e::Fixture;

namespace {

struct Traces {
  std::vector<std::string> devices;
  std::size_t connections = 0;
  bool operator==(const Traces&) const = default;
};

// What each managed account and the bot left on the server so far.
std::map<std::string, Traces> traces(const Fixture& fx) {
  std::vector<std::string> users = {fx.bot()};
  for (const auto& [key, account] : fx.example().at("accounts").items()) {
    users.push_back(account.at("user_id"));
  }
  std::map<std::string, Traces> out;
  for (const std::string& user : users) {
    out[user] = {fx.server().device_ids(user), fx.server().connections(user)};
  }
  return out;
}

}  // namespace

TEST_CASE("synapse: plan with an empty state store logs in as no one", "[synapse][plan-reader]") {
  auto fx = Fixture::create();
  if (!fx) {
    return;
  }
  fx->apply();
  const auto before = traces(*fx);
  if (fx->server().self_started()) {
    // The apply wrote the coordination rooms' m.direct as their two people:
    // sessions are visible, so their absence below means something.
    std::size_t people_sessions = 0;
    for (const auto& [user, seen] : before) {
      people_sessions += user == fx->bot() ? 0 : seen.connections;
    }
    REQUIRE(people_sessions > 0);
  }

  auto plan = fx->mxctl({"plan", fx->manifests(), "--detailed-exitcode", "--state", fx->scratch("empty.db")});
  INFO(synapse_e2e::shown(plan));
  CHECK(plan.exit_code != 1);  // a plan, with or without changes; an error would prove nothing

  const auto after = traces(*fx);
  for (const auto& [user, seen] : before) {
    INFO(user);
    CHECK(after.at(user).devices == seen.devices);
    CHECK(after.at(user).connections == seen.connections);
  }
}

}  // namespace plan_reader_test
