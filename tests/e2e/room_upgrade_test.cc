// Room upgrades through the real binary against mxsim, whose /upgrade does
// what Synapse 1.67 does: a managed room someone upgrades is followed to its
// replacement, and --upgrade-rooms upgrades rooms older than roomVersion.

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <utility>
#include <vector>

#include "tests/e2e/fixture.h"

namespace room_upgrade_test {

namespace {

const std::string k_discussion = "#mxctl.council.disputes.discussion:mxsim.test";
const std::string k_council = "#mxctl.council.disputes:mxsim.test";

std::string encoded(const std::string& alias) {
  std::string out;
  for (char c : alias) {
    out += c == '#' ? std::string("%23") : c == ':' ? std::string("%3A") : std::string(1, c);
  }
  return out;
}

// A request in process, as whoever `token` belongs to.
mxsim::ApiResponse as(e2e::Fixture& fx, const std::string& token, const std::string& method,
                      const std::string& target, const nlohmann::json& body) {
  return fx.homeserver().handle(
      mxsim::make_request(method, target, {{"authorization", "Bearer " + token}}, body.dump()));
}

std::string room_of(e2e::Fixture& fx, const std::string& alias) {
  mxsim::ApiResponse resolved = fx.as_bot("GET", "/_matrix/client/v3/directory/room/" + encoded(alias), nullptr);
  REQUIRE(resolved.status == 200);
  return resolved.body["room_id"];
}

nlohmann::json state_of(e2e::Fixture& fx, const std::string& room_id) {
  mxsim::ApiResponse state = fx.as_bot("GET", "/_matrix/client/v3/rooms/" + room_id + "/state", nullptr);
  REQUIRE(state.status == 200);
  return state.body;
}

// The content of one state event of `room_id`, or null when it is absent.
nlohmann::json state_event(const nlohmann::json& state, const std::string& type, const std::string& state_key) {
  for (const nlohmann::json& event : state) {
    if (event["type"] == type && event["state_key"] == state_key) {
      return event["content"];
    }
  }
  return nullptr;
}

// A person with an account and a token: the kind of room admin who might
// upgrade a room from their client.
std::string make_person(e2e::Fixture& fx, const std::string& user_id) {
  REQUIRE(fx.as_bot("PUT", "/_synapse/admin/v2/users/" + user_id, {{"password", "correct horse battery"}}).status ==
          201);
  mxsim::ApiResponse login = fx.as_bot("POST", "/_synapse/admin/v1/users/" + user_id + "/login", nlohmann::json::object());
  REQUIRE(login.status == 200);
  return login.body["access_token"];
}

}  // namespace

TEST_CASE("e2e upgrade: a managed space someone upgrades is followed to its replacement", "[e2e][upgrade]") {
  e2e::Fixture fx;
  REQUIRE(fx.mxctl({"apply", fx.manifests(), "--yes"}).exit_code == 0);
  const std::string old_space = room_of(fx, k_council);
  const std::string discussion = room_of(fx, k_discussion);

  // Ursula, a room admin mxctl does not manage, upgrades the council space
  // (invite-only) from her client.
  const std::string ursula = "@ursula:mxsim.test";
  const std::string token = make_person(fx, ursula);
  nlohmann::json levels = state_event(state_of(fx, old_space), "m.room.power_levels", "");
  levels["users"][ursula] = 100;
  REQUIRE(fx.as_bot("PUT", "/_matrix/client/v3/rooms/" + old_space + "/state/m.room.power_levels/", levels).status ==
          200);
  REQUIRE(fx.as_bot("POST", "/_matrix/client/v3/rooms/" + old_space + "/invite", {{"user_id", ursula}}).status == 200);
  REQUIRE(as(fx, token, "POST", "/_matrix/client/v3/rooms/" + old_space + "/join", nlohmann::json::object()).status ==
          200);
  mxsim::ApiResponse upgraded =
      as(fx, token, "POST", "/_matrix/client/v3/rooms/" + old_space + "/upgrade", {{"new_version", "10"}});
  REQUIRE(upgraded.status == 200);
  const std::string new_space = upgraded.body["replacement_room"];
  // She is no council member: she leaves once mxctl is in (below); before,
  // the room would have no one to join through.
  const nlohmann::json old_state = state_of(fx, old_space);

  // mxctl is not in the replacement and may not join it: reported, and
  // nothing is re-created or written to the old space.
  auto plan = fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"});
  INFO(plan.out << plan.err);
  CHECK(plan.exit_code == 2);
  CHECK(plan.out.find(new_space) != std::string::npos);
  CHECK(plan.out.find("0 to add") != std::string::npos);
  auto refused = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(refused.out << refused.err);
  CHECK(refused.exit_code == 1);
  CHECK((refused.out + refused.err).find("invite the bot there") != std::string::npos);

  // Once invited, mxctl joins, then takes the space over in the next pass.
  REQUIRE(as(fx, token, "POST", "/_matrix/client/v3/rooms/" + new_space + "/invite",
             {{"user_id", "@mxctl:mxsim.test"}})
              .status == 200);
  auto joined = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(joined.out << joined.err);
  REQUIRE(joined.exit_code == 0);
  REQUIRE(as(fx, token, "POST", "/_matrix/client/v3/rooms/" + new_space + "/leave", nlohmann::json::object())
              .status == 200);
  auto taken_over = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(taken_over.out << taken_over.err);
  REQUIRE(taken_over.exit_code == 0);
  auto converged = fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"});
  INFO(converged.out << converged.err);
  CHECK(converged.exit_code == 0);

  const nlohmann::json state = state_of(fx, new_space);
  CHECK(state_event(state, e2e::k_marker_type, "")["key"] == "council/disputes");
  CHECK(room_of(fx, k_council) == new_space);
  CHECK(state_event(state, "m.space.child", discussion).contains("via"));
  CHECK(state_event(state_of(fx, discussion), "m.space.parent", new_space).contains("via"));
  CHECK(state_event(state, "m.room.member", "@erin:mxsim.test")["membership"] == "invite");
  // The old space is left as the tombstone made it.
  CHECK(state_of(fx, old_space) == old_state);
}

TEST_CASE("e2e upgrade: --upgrade-rooms upgrades rooms older than roomVersion, and the rest follows",
          "[e2e][upgrade]") {
  e2e::Fixture fx;
  const std::string old_config = fx.scratch("v9.yaml");
  const std::string new_config = fx.scratch("v10.yaml");
  std::ofstream(old_config) << "roomVersion: \"9\"\n";
  std::ofstream(new_config) << "roomVersion: \"10\"\n";
  REQUIRE(fx.mxctl({"--config", old_config, "apply", fx.manifests(), "--yes"}).exit_code == 0);
  const std::string old_room = room_of(fx, k_discussion);

  // Without the flag: a warning, nothing to do.
  auto warned = fx.mxctl({"--config", new_config, "plan", fx.manifests(), "--detailed-exitcode"});
  INFO(warned.out << warned.err);
  CHECK(warned.exit_code == 0);
  CHECK((warned.out + warned.err).find("--upgrade-rooms") != std::string::npos);

  auto upgrade = fx.mxctl({"--config", new_config, "apply", fx.manifests(), "--yes", "--upgrade-rooms"});
  INFO(upgrade.out << upgrade.err);
  REQUIRE(upgrade.exit_code == 0);
  const std::string new_room = room_of(fx, k_discussion);
  CHECK(new_room != old_room);
  CHECK(state_event(state_of(fx, new_room), e2e::k_marker_type, "")["key"] == "council/disputes/discussion");
  CHECK(state_event(state_of(fx, old_room), "m.room.tombstone", "")["replacement_room"] == new_room);

  auto follow = fx.mxctl({"--config", new_config, "apply", fx.manifests(), "--yes", "--upgrade-rooms"});
  INFO(follow.out << follow.err);
  REQUIRE(follow.exit_code == 0);
  auto converged = fx.mxctl({"--config", new_config, "plan", fx.manifests(), "--detailed-exitcode"});
  INFO(converged.out << converged.err);
  CHECK(converged.exit_code == 0);
  CHECK(state_of(fx, new_room)[0].is_object());
  const std::string council = room_of(fx, k_council);
  CHECK(state_event(state_of(fx, council), "m.room.create", "")["room_version"] == "10");
  CHECK(state_event(state_of(fx, new_room), "m.space.parent", council).is_object());
  CHECK(state_event(state_of(fx, new_room), "m.room.member", "@erin:mxsim.test")["membership"] == "invite");
  SECTION("a lost state store finds the DM's message in the room it replaced, and plans nothing") {
    std::filesystem::remove(fx.state());
    auto plan = fx.mxctl({"--config", new_config, "plan", fx.manifests(), "--detailed-exitcode"});
    INFO(plan.out << plan.err);
    CHECK(plan.exit_code == 0);
  }
  // A coordination DM's new room is what both people's m.direct lists now.
  const std::string dm = room_of(fx, "#mxctl.dm.request-8841:mxsim.test");
  for (const auto& [user, other] : std::vector<std::pair<std::string, std::string>>{
           {"@bob:mxsim.test", "@carol:mxsim.test"}, {"@carol:mxsim.test", "@bob:mxsim.test"}}) {
    mxsim::ApiResponse direct = as(fx, fx.homeserver().issue_token(user), "GET",
                                   "/_matrix/client/v3/user/" + user + "/account_data/m.direct", nullptr);
    INFO(user << ": " << direct.body.dump());
    REQUIRE(direct.status == 200);
    const nlohmann::json& rooms = direct.body[other];
    CHECK(std::find(rooms.begin(), rooms.end(), dm) != rooms.end());
  }
}

}  // namespace room_upgrade_test
