// Forked room writes (forks.h): with the mode on, two writes to one room in
// flight together share a parent, and an incremental /sync from before both
// misses the state change of one of them while the state endpoints show
// both; writes one after the other, or with the mode off, never fork.

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "mxsim/forks.h"
#include "mxsim/tests/sim_fixture.h"

namespace forks_test {

using mxsim_test::enc;
using mxsim_test::Reply;
using mxsim_test::Sim;

namespace {

const std::string k_filter = enc(R"({"room":{"timeline":{"limit":0}}})");

// The state events of `room_id` in a sync answer, as "type state_key".
std::vector<std::string> synced_state(const Reply& sync, const std::string& room_id) {
  std::vector<std::string> out;
  if (!sync.body.contains("rooms") || !sync.body["rooms"].contains("join") ||
      !sync.body["rooms"]["join"].contains(room_id)) {
    return out;
  }
  for (const auto& event : sync.body["rooms"]["join"][room_id]["state"]["events"]) {
    out.push_back(event["type"].get<std::string>() + " " + event["state_key"].get<std::string>());
  }
  return out;
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// A rename and an invite of `guest`, sent at the same time from two
// connections, as an executor with two workers sends them.
void rename_and_invite_together(Sim& sim, const std::string& token, const std::string& room_id,
                                const std::string& guest) {
  std::vector<int> statuses(2, 0);
  std::vector<std::thread> clients;
  for (int i = 0; i < 2; ++i) {
    clients.emplace_back([&, i] {
      httplib::Client client("127.0.0.1", sim.server().port());
      httplib::Headers auth = {{"Authorization", "Bearer " + token}};
      httplib::Result result =
          i == 0 ? client.Put(Sim::room_path(room_id, "/state/m.room.name/").c_str(), auth,
                              R"({"name":"New name"})", "application/json")
                 : client.Post(Sim::room_path(room_id, "/invite").c_str(), auth,
                               nlohmann::json{{"user_id", guest}}.dump(), "application/json");
      statuses[i] = result ? result->status : 0;
    });
  }
  for (std::thread& client : clients) {
    client.join();
  }
  REQUIRE(statuses == std::vector<int>{200, 200});
}

}  // namespace

TEST_CASE("mxsim forks: two writes to one room in flight together lose one state change in incremental sync",
          "[mxsim][forks]") {
  Sim sim;
  std::string bot = sim.user("bot", true);
  sim.user("guest");
  const std::string guest = sim.id("guest");
  std::string room_id = sim.create_room(bot, {{"name", "Old name"}});
  Reply enabled = sim.post("/_mxsim/forks", bot, {{"enabled", true}, {"hold_ms", 150}});
  REQUIRE(enabled.status == 200);
  CHECK(enabled.body == nlohmann::json{{"enabled", true}, {"hold_ms", 150}});
  Reply before = sim.get("/_matrix/client/v3/sync?filter=" + k_filter, bot);
  const std::string since = before.body["next_batch"];

  rename_and_invite_together(sim, bot, room_id, guest);

  Reply after = sim.get("/_matrix/client/v3/sync?filter=" + k_filter + "&since=" + since, bot);
  REQUIRE(after.status == 200);
  std::vector<std::string> state = synced_state(after, room_id);
  INFO(after.body.dump());
  const bool name = contains(state, "m.room.name ");
  const bool invite = contains(state, "m.room.member " + guest);
  CHECK(name != invite);  // exactly one of the two arrived

  // The room's own state shows both.
  CHECK(sim.get_state(bot, room_id, "m.room.name").body["name"] == "New name");
  CHECK(sim.get_state(bot, room_id, "m.room.member", guest).body["membership"] == "invite");
  Reply full = sim.get(Sim::room_path(room_id, "/state"), bot);
  REQUIRE(full.status == 200);
  int found = 0;
  for (const auto& event : full.body) {
    found += (event["type"] == "m.room.name" && event["content"]["name"] == "New name") ? 1 : 0;
    found += (event["type"] == "m.room.member" && event["state_key"] == guest) ? 1 : 0;
  }
  CHECK(found == 2);

  SECTION("later incremental syncs never bring the lost change") {
    Reply next = sim.get("/_matrix/client/v3/sync?filter=" + k_filter + "&since=" +
                             after.body["next_batch"].get<std::string>(),
                         bot);
    CHECK(synced_state(next, room_id).empty());
  }
  SECTION("initial and full-state syncs carry both") {
    sim.hs().sync_cache().clear();  // the initial sync was asked before
    for (const std::string& query : {std::string("?filter=") + k_filter,
                                     "?filter=" + k_filter + "&full_state=true&since=" + since}) {
      Reply sync = sim.get("/_matrix/client/v3/sync" + query, bot);
      std::vector<std::string> all = synced_state(sync, room_id);
      CHECK(contains(all, "m.room.name "));
      CHECK(contains(all, "m.room.member " + guest));
    }
  }
}

TEST_CASE("mxsim forks: writes one after the other do not fork", "[mxsim][forks]") {
  Sim sim;
  std::string bot = sim.user("bot", true);
  sim.user("guest");
  std::string room_id = sim.create_room(bot, {{"name", "Old name"}});
  sim.hs().forks().configure({true, 20});
  Reply before = sim.get("/_matrix/client/v3/sync?filter=" + k_filter, bot);

  auto started = std::chrono::steady_clock::now();
  REQUIRE(sim.put_state(bot, room_id, "m.room.name", "", {{"name", "New name"}}).status == 200);
  // Held while in flight: the answer comes no sooner than hold_ms.
  CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(20));
  REQUIRE(sim.member_action(bot, room_id, "invite", sim.id("guest")).status == 200);
  REQUIRE(sim.put(Sim::room_path(room_id, "/send/m.room.message/t1"), bot, {{"msgtype", "m.text"}, {"body", "hi"}})
              .status == 200);

  Reply after = sim.get("/_matrix/client/v3/sync?filter=" + k_filter + "&since=" +
                            before.body["next_batch"].get<std::string>(),
                        bot);
  std::vector<std::string> state = synced_state(after, room_id);
  CHECK(contains(state, "m.room.name "));
  CHECK(contains(state, "m.room.member " + sim.id("guest")));
}

TEST_CASE("mxsim forks: off by default, writes sent together both arrive", "[mxsim][forks]") {
  Sim sim;
  std::string bot = sim.user("bot", true);
  sim.user("guest");
  CHECK(sim.get("/_mxsim/forks", bot).body == nlohmann::json{{"enabled", false}, {"hold_ms", 30}});
  std::string room_id = sim.create_room(bot, {{"name", "Old name"}});
  Reply before = sim.get("/_matrix/client/v3/sync?filter=" + k_filter, bot);
  rename_and_invite_together(sim, bot, room_id, sim.id("guest"));
  Reply after = sim.get("/_matrix/client/v3/sync?filter=" + k_filter + "&since=" +
                            before.body["next_batch"].get<std::string>(),
                        bot);
  std::vector<std::string> state = synced_state(after, room_id);
  CHECK(contains(state, "m.room.name "));
  CHECK(contains(state, "m.room.member " + sim.id("guest")));
}

TEST_CASE("mxsim forks: the control endpoint checks its input and its caller", "[mxsim][forks]") {
  Sim sim;
  std::string bot = sim.user("bot", true);
  std::string someone = sim.user("someone");
  CHECK(sim.post("/_mxsim/forks", bot, {{"hold_ms", -1}}).status == 400);
  CHECK(sim.post("/_mxsim/forks", bot, {{"enabled", "yes"}}).status == 400);
  CHECK(sim.post("/_mxsim/forks", someone, {{"enabled", true}}).status == 403);
  CHECK_FALSE(sim.hs().forks().settings().enabled);
  // Only the hold: the switch stays as it was.
  CHECK(sim.post("/_mxsim/forks", bot, {{"hold_ms", 5}}).body == nlohmann::json{{"enabled", false}, {"hold_ms", 5}});
}

TEST_CASE("mxsim forks: which requests write to a room", "[mxsim][forks]") {
  const mxsim::PathParams room = {{"roomId", "!r:mxsim.test"}};
  for (const char* route :
       {"PUT /_matrix/client/v3/rooms/{roomId}/state/{eventType}/{stateKey*}",
        "PUT /_matrix/client/v3/rooms/{roomId}/send/{eventType}/{txnId}",
        "PUT /_matrix/client/r0/rooms/{roomId}/redact/{eventId}/{txnId}",
        "POST /_matrix/client/v3/rooms/{roomId}/invite", "POST /_matrix/client/v3/rooms/{roomId}/kick",
        "POST /_matrix/client/v3/rooms/{roomId}/ban", "POST /_matrix/client/v3/rooms/{roomId}/unban",
        "POST /_matrix/client/v3/rooms/{roomId}/join", "POST /_matrix/client/v3/rooms/{roomId}/leave"}) {
    CAPTURE(route);
    CHECK(mxsim::room_written(route, room) == "!r:mxsim.test");
  }
  for (const char* route :
       {"GET /_matrix/client/v3/rooms/{roomId}/state/{eventType}/{stateKey*}",
        "GET /_matrix/client/v3/rooms/{roomId}/messages", "POST /_matrix/client/v3/rooms/{roomId}/forget",
        "POST /_matrix/client/v3/createRoom"}) {
    CAPTURE(route);
    CHECK_FALSE(mxsim::room_written(route, room).has_value());
  }
  CHECK(mxsim::room_written("POST /_synapse/admin/v1/join/{roomIdOrAlias}", {{"roomIdOrAlias", "!r:mxsim.test"}}) ==
        "!r:mxsim.test");
  CHECK_FALSE(mxsim::room_written("POST /_synapse/admin/v1/join/{roomIdOrAlias}", {{"roomIdOrAlias", "#a:mxsim.test"}}));
}

}  // namespace forks_test
