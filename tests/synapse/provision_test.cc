// `mxctl provision` against a real Synapse: the account, its private sync
// room made through the admin API's login as the account, the bundle that
// hands them over, and a second run with --rotate-password.

#include <catch2/catch.hpp>

#include "adapters/homeserver/provisioning_bundle.h"
#include "tests/synapse/fixture.h"

namespace provision_test {

using synapse_e2e::Fixture;

namespace {

adapters::ProvisioningBundle decoded(const std::string& out) {
  auto bundle = adapters::decode_bundle(out.substr(0, out.find('\n')));
  INFO(out);
  REQUIRE(bundle);
  return *bundle;
}

testing_support::JsonAnswer log_in(const Fixture& fx, const std::string& user, const std::string& password) {
  return fx.server().call("POST", "/_matrix/client/v3/login", "",
                          {{"type", "m.login.password"},
                           {"identifier", {{"type", "m.id.user"}, {"user", user}}},
                           {"password", password}});
}

// The sync room as seed 001 describes it: marked, encrypted, not
// federating, invite-only, the account its only member.
void check_sync_room(const Fixture& fx, const adapters::ProvisioningBundle& bundle) {
  const auto state = fx.server().room_state(bundle.room_id);
  REQUIRE_FALSE(state.empty());
  CHECK(state.count("m.lotti.sync_room|"));
  CHECK(state.at("m.room.encryption|").value("algorithm", "") == "m.megolm.v1.aes-sha2");
  CHECK(state.at("m.room.create|").value("m.federate", true) == false);
  CHECK(state.at("m.room.join_rules|").value("join_rule", "") == "invite");
  std::vector<std::string> joined;
  for (const auto& [key, content] : state) {
    if (key.rfind("m.room.member|", 0) == 0 && content.value("membership", "") == "join") {
      joined.push_back(key.substr(std::string("m.room.member|").size()));
    }
  }
  CHECK(joined == std::vector<std::string>{bundle.user});
}

// A second run: refused without --rotate-password, and with it a new
// credential for the same room.
adapters::ProvisioningBundle rotated(const Fixture& fx, const std::string& localpart,
                                     const adapters::ProvisioningBundle& first) {
  auto refused = fx.mxctl({"provision", localpart});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("--rotate-password") != std::string::npos);
  auto again = fx.mxctl({"provision", localpart, "--rotate-password"});
  INFO(again.out << again.err);
  REQUIRE(again.exit_code == 0);
  auto second = decoded(again.out);
  CHECK(second.room_id == first.room_id);
  return second;
}

}  // namespace

TEST_CASE("synapse: mxctl provision hands over an account and its private sync room", "[synapse][provision]") {
  auto fx = Fixture::create();
  if (!fx) {
    return;
  }
  const std::string localpart = "sync-" + synapse_e2e::random_hex(8);
  auto first = fx->mxctl({"provision", localpart, "--display-name", "Sync devices"});
  INFO(first.out << first.err);
  REQUIRE(first.exit_code == 0);
  const auto bundle = decoded(first.out);
  CHECK(bundle.user == fx->server().user_id(localpart));
  auto login = log_in(*fx, bundle.user, bundle.password);
  INFO(login.describe());
  REQUIRE(login.ok());

  check_sync_room(*fx, bundle);

  const auto second = rotated(*fx, localpart, bundle);
  CHECK(log_in(*fx, bundle.user, second.password).ok());
  CHECK(log_in(*fx, bundle.user, bundle.password).status == 403);
}

TEST_CASE("synapse: in appservice mode mxctl provision hands over a device's access token",
          "[synapse][provision][appservice]") {
  synapse_e2e::FixtureOptions options;
  options.appservice = true;
  auto fx = Fixture::create(options);
  if (!fx) {
    return;
  }
  const std::string localpart = "sync-" + synapse_e2e::random_hex(8);
  auto first = fx->mxctl({"provision", localpart, "--display-name", "Sync devices"});
  INFO(first.out << first.err);
  REQUIRE(first.exit_code == 0);
  const auto bundle = decoded(first.out);
  CHECK(bundle.user == fx->server().user_id(localpart));
  CHECK(bundle.password.empty());
  auto who = fx->server().call("GET", "/_matrix/client/v3/account/whoami", bundle.access_token, nullptr);
  INFO(who.describe());
  REQUIRE(who.ok());
  CHECK(who.body.value("user_id", "") == bundle.user);
  CHECK(who.body.value("device_id", "") == bundle.device_id);

  check_sync_room(*fx, bundle);

  const auto second = rotated(*fx, localpart, bundle);
  CHECK(fx->server().call("GET", "/_matrix/client/v3/account/whoami", second.access_token, nullptr).ok());
  auto old = fx->server().call("GET", "/_matrix/client/v3/account/whoami", bundle.access_token, nullptr);
  CHECK(old.status == 401);
  CHECK(old.body.value("errcode", "") == "M_UNKNOWN_TOKEN");
}

}  // namespace provision_test
