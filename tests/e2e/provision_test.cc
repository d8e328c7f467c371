// `mxctl provision` against the simulator over loopback: the bundle
// decodes, its password logs in, its room is the account's alone and
// carries the marker; a second run needs --rotate-password and finds the
// same room; the logins mxctl made for the job are logged out again.

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "adapters/homeserver/provisioning_bundle.h"
#include "tests/e2e/appservice_fixture.h"
#include "tests/e2e/fixture.h"
#include "tests/support/http_json.h"

namespace provision_test {

namespace {

using e2e::Fixture;

// POST /login with the password, in process; the answer's status.
int log_in(Fixture& fx, const std::string& user, const std::string& password) {
  const nlohmann::json body = {{"type", "m.login.password"},
                               {"identifier", {{"type", "m.id.user"}, {"user", user}}},
                               {"password", password}};
  return fx.homeserver().handle(mxsim::make_request("POST", "/_matrix/client/v3/login", {}, body.dump())).status;
}

adapters::ProvisioningBundle decoded(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  auto bundle = adapters::decode_bundle(line);
  INFO(text);
  REQUIRE(bundle);
  return *bundle;
}

}  // namespace

TEST_CASE("e2e: mxctl provision makes an account and its private sync room, and hands them over as a bundle",
          "[e2e][provision]") {
  Fixture fx;
  const std::uint64_t start = fx.homeserver().journal().entries().empty()
                                  ? 0
                                  : fx.homeserver().journal().entries().back().seq;
  auto first = fx.mxctl({"provision", "sync-alice", "--display-name", "Alice's devices"});
  INFO(first.out << first.err);
  REQUIRE(first.exit_code == 0);
  const auto bundle = decoded(first.out);
  CHECK(bundle.user == "@sync-alice:" + std::string(e2e::k_server_name));
  CHECK(bundle.homeserver == fx.env().at("MATRIX_HOMESERVER_URL"));
  CHECK(first.err.find(bundle.password) == std::string::npos);  // the password is in the bundle only
  CHECK(log_in(fx, bundle.user, bundle.password) == 200);

  auto marker = fx.as_bot("GET", "/_synapse/admin/v1/rooms/" + testing_support::url_encode(bundle.room_id) + "/state",
                          nlohmann::json::object());
  REQUIRE(marker.status == 200);
  std::map<std::string, nlohmann::json> state;
  for (const nlohmann::json& event : marker.body.at("state")) {
    state[event.at("type").template get<std::string>() + "|" + event.value("state_key", "")] = event.at("content");
  }
  CHECK(state.count("m.lotti.sync_room|"));
  CHECK(state["m.room.encryption|"].value("algorithm", "") == "m.megolm.v1.aes-sha2");
  CHECK(state["m.room.create|"].value("m.federate", true) == false);
  CHECK(state["m.room.join_rules|"].value("join_rule", "") == "invite");
  CHECK(state["m.room.name|"].value("name", "") == "Alice's devices");
  std::vector<std::string> members;
  for (const auto& [key, content] : state) {
    if (key.rfind("m.room.member|", 0) == 0 && content.value("membership", "") == "join") {
      members.push_back(key.substr(std::string("m.room.member|").size()));
    }
  }
  CHECK(members == std::vector<std::string>{bundle.user});

  // Both logins made for the job (the password check, the admin login as
  // the account) were logged out; nothing else was done as the account.
  int logins = 0;
  int logouts = 0;
  for (const mxsim::JournalEntry& entry : fx.homeserver().journal().entries(start)) {
    logins += entry.method == "POST" && (entry.path == "/_matrix/client/v3/login" ||
                                         (entry.path.ends_with("/login") && entry.path.find("/_synapse/") == 0));
    logouts += entry.path == "/_matrix/client/v3/logout" && entry.status == 200;
  }
  CHECK(logins == 3);  // the two of mxctl, and this test's own
  CHECK(logouts == 2);

  SECTION("a second run refuses an existing account without --rotate-password, and changes nothing") {
    auto again = fx.mxctl({"provision", "sync-alice"});
    CHECK(again.exit_code == 1);
    CHECK(again.out.empty());
    CHECK(again.err.find("--rotate-password") != std::string::npos);
    CHECK(log_in(fx, bundle.user, bundle.password) == 200);
  }
  SECTION("with --rotate-password: a new password, the same room, written to a private file") {
    const std::string out = fx.scratch("bundle.txt");
    std::ofstream(out) << "an older file, readable by anyone\n";
    chmod(out.c_str(), 0644);
    auto rotated = fx.mxctl({"provision", "sync-alice", "--rotate-password", "--out", out});
    INFO(rotated.err);
    REQUIRE(rotated.exit_code == 0);
    CHECK(rotated.out.empty());
    struct stat info {};
    REQUIRE(stat(out.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
    std::stringstream text;
    text << std::ifstream(out).rdbuf();
    const auto second = decoded(text.str());
    CHECK(second.room_id == bundle.room_id);
    CHECK(second.password != bundle.password);
    CHECK(log_in(fx, bundle.user, second.password) == 200);
    CHECK(log_in(fx, bundle.user, bundle.password) == 403);
  }
  SECTION("an invalid localpart is refused before anything is asked of the server") {
    auto bad = fx.mxctl({"provision", "Alice Smith"});
    CHECK(bad.exit_code == 1);
    CHECK(bad.err.find("invalid localpart") != std::string::npos);
  }
}

TEST_CASE("e2e: in appservice mode mxctl provision hands over a device's access token instead of a password",
          "[e2e][provision][appservice]") {
  e2e::AppserviceFixture fx;
  const std::string user = "@sync-bob:mxsim.test";
  auto whoami = [&fx](const std::string& token) {
    return fx.homeserver().handle(mxsim::make_request("GET", "/_matrix/client/v3/account/whoami",
                                                      {{"authorization", "Bearer " + token}}, ""));
  };
  auto first = fx.mxctl({"provision", "sync-bob", "--display-name", "Bob's devices"});
  INFO(first.out << first.err);
  REQUIRE(first.exit_code == 0);
  const auto bundle = decoded(first.out);
  CHECK(bundle.user == user);
  CHECK(bundle.password.empty());
  CHECK_FALSE(bundle.device_id.empty());
  CHECK(first.err.find(bundle.access_token) == std::string::npos);  // the token is in the bundle only
  auto who = whoami(bundle.access_token);
  REQUIRE(who.status == 200);
  CHECK(who.body.value("user_id", "") == user);
  CHECK(who.body.value("device_id", "") == bundle.device_id);
  auto account = fx.user(user);
  REQUIRE(account);
  CHECK(account->appservice_id == "mxctl");  // registered by the appservice, no admin API
  CHECK(account->displayname == std::optional<std::string>("Bob's devices"));

  // Read as the account (the bot is not in its room).
  auto state = fx.as_bot("GET",
                         "/_matrix/client/v3/rooms/" + testing_support::url_encode(bundle.room_id) +
                             "/state?user_id=" + testing_support::url_encode(user),
                         nullptr);
  REQUIRE(state.status == 200);
  std::map<std::string, nlohmann::json> by_key;
  for (const nlohmann::json& event : state.body) {
    by_key[event.at("type").get<std::string>() + "|" + event.value("state_key", "")] = event.at("content");
  }
  CHECK(by_key.count("m.lotti.sync_room|"));
  CHECK(by_key["m.room.encryption|"].value("algorithm", "") == "m.megolm.v1.aes-sha2");
  CHECK(by_key["m.room.create|"].value("m.federate", true) == false);
  CHECK(by_key["m.room.create|"].value("creator", "") == user);
  std::vector<std::string> members;
  for (const auto& [key, content] : by_key) {
    if (key.rfind("m.room.member|", 0) == 0 && content.value("membership", "") == "join") {
      members.push_back(key.substr(std::string("m.room.member|").size()));
    }
  }
  CHECK(members == std::vector<std::string>{user});

  auto refused = fx.mxctl({"provision", "sync-bob"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.out.empty());
  CHECK(refused.err.find("--rotate-password") != std::string::npos);
  CHECK(whoami(bundle.access_token).status == 200);

  auto rotated = fx.mxctl({"provision", "sync-bob", "--rotate-password"});
  INFO(rotated.err);
  REQUIRE(rotated.exit_code == 0);
  const auto second = decoded(rotated.out);
  CHECK(second.room_id == bundle.room_id);
  CHECK(second.access_token != bundle.access_token);
  CHECK(whoami(second.access_token).status == 200);
  // The rotation logged the old device out: the first bundle is dead.
  auto old = whoami(bundle.access_token);
  CHECK(old.status == 401);
  CHECK(old.body.value("errcode", "") == "M_UNKNOWN_TOKEN");
}

}  // namespace provision_test
