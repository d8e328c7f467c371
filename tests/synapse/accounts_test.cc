// Deactivating and reactivating people on a real Synapse 1.67, which has no
// suspend API and no `locked` flag: `deactivated: true` demotes the person
// and takes them out of the councils, mxctl says it cannot suspend here and
// does not claim to every pass; taking the flag away gives the levels and
// memberships back. With `deactivatedAccounts: deactivate` the account is
// deactivated for real: the admin API shows it and logins are refused.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>

#include "tests/synapse/fixture.h"
#include "tests/synapse/truth.h"

namespace accounts_test {

using synapse_e2e::Fixture;
using synapse_e2e::memberships;
using synapse_e2e::state_content;

namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

int level_of(const Fixture& fx, const std::string& key, const std::string& user) {
  return state_content(fx.room_state(key), "m.room.power_levels")
      .value("users", nlohmann::json::object())
      .value(user, 0);
}

nlohmann::json password_login(const Fixture& fx, const std::string& user, const std::string& password,
                              int& status) {
  auto login = fx.server().call("POST", "/_matrix/client/v3/login", "",
                                {{"type", "m.login.password"},
                                 {"identifier", {{"type", "m.id.user"}, {"user", user}}},
                                 {"password", password}});
  status = login.status;
  return login.body;
}

}  // namespace

TEST_CASE("synapse: deactivation demotes and removes from councils without suspending, reactivation restores",
          "[synapse][accounts]") {
  auto fx = Fixture::create();
  if (!fx) {
    return;
  }
  fx->apply();
  const std::string grace = fx->user_id("grace");  // riverside trust 30 (level 50), on the disputes council
  REQUIRE(level_of(*fx, "community/riverside/general", grace) == 50);

  fx->set_user_field("grace", "deactivated: true");
  auto deactivation = fx->apply();
  const std::string said = synapse_e2e::shown(deactivation);
  INFO(said);
  // Synapse 1.67 has neither the suspend API nor `locked`: say so, do not pretend.
  CHECK(lower(said).find("cannot suspend") != std::string::npos);
  for (const char* key : {"community/riverside", "community/riverside/general", "council/disputes",
                          "council/disputes/discussion"}) {
    INFO(key);
    CHECK(level_of(*fx, key, grace) == 0);
  }
  CHECK(memberships(fx->room_state("council/disputes"))[grace] == "leave");
  CHECK(memberships(fx->room_state("council/disputes/discussion"))[grace] == "leave");
  // Community rooms keep the person (and their history).
  CHECK(memberships(fx->room_state("community/riverside/general"))[grace] == "invite");
  auto account = fx->server().user(grace);
  REQUIRE(account);
  CHECK_FALSE(testing_support::admin_flag(account->value("deactivated", nlohmann::json(0))));
  auto settled = fx->plan();
  INFO(synapse_e2e::shown(settled));
  CHECK(settled.exit_code == 0);  // Not "suspended" again on every pass.

  fx->reset_manifests();
  fx->apply();
  CHECK(level_of(*fx, "community/riverside/general", grace) == 50);
  CHECK(level_of(*fx, "council/disputes", grace) == 50);
  CHECK(memberships(fx->room_state("council/disputes"))[grace] == "invite");
  auto problems = synapse_e2e::convergence_problems(*fx, fx->example());
  INFO(synapse_e2e::lines(problems));
  CHECK(problems.empty());
  auto restored = fx->plan();
  INFO(synapse_e2e::shown(restored));
  CHECK(restored.exit_code == 0);
}

TEST_CASE("synapse: deactivatedAccounts: deactivate deactivates the account and refuses its logins",
          "[synapse][accounts]") {
  auto fx = Fixture::create();
  if (!fx) {
    return;
  }
  fx->set_config("deactivatedAccounts: deactivate\n");
  fx->apply();
  // heidi (riverside, trust 0) gets a password and a session of her own.
  const std::string heidi = fx->user_id("heidi");
  const std::string password = "heidi-pass-" + synapse_e2e::random_hex(8);
  auto set = fx->server().admin("PUT", "/_synapse/admin/v2/users/" + testing_support::url_encode(heidi),
                                {{"password", password}});
  INFO(set.describe());
  REQUIRE(set.ok());
  int status = 0;
  auto session = password_login(*fx, heidi, password, status);
  INFO(session.dump());
  REQUIRE(status == 200);
  const std::string token = session.at("access_token");

  fx->set_user_field("heidi", "deactivated: true");
  fx->apply();
  auto account = fx->server().user(heidi);
  REQUIRE(account);
  INFO(account->dump());
  CHECK(testing_support::admin_flag(account->value("deactivated", nlohmann::json(0))));
  auto refused = password_login(*fx, heidi, password, status);
  INFO(refused.dump());
  CHECK(status == 403);
  auto whoami = fx->server().call("GET", "/_matrix/client/v3/account/whoami", token);
  INFO(whoami.describe());
  CHECK(whoami.status == 401);
  // Synapse's deactivation takes the account out of every room, invites included.
  CHECK(memberships(fx->room_state("community/riverside"))[heidi] == "leave");
  CHECK(memberships(fx->room_state("community/riverside/general"))[heidi] == "leave");
  auto settled = fx->plan();
  INFO(synapse_e2e::shown(settled));
  CHECK(settled.exit_code == 0);
}

}  // namespace accounts_test
