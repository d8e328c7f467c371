// /sync: initial, incremental, filters, invites, long-polling and caching.

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "mxsim/tests/sim_fixture.h"

namespace sync_test {

using mxsim_test::enc;
using mxsim_test::Reply;
using mxsim_test::Sim;

namespace {

std::string filter(const nlohmann::json& definition) { return enc(definition.dump()); }

bool has_state(const nlohmann::json& events, const std::string& type) {
  for (const auto& event : events) {
    if (event["type"] == type) {
      return true;
    }
  }
  return false;
}

}  // namespace

TEST_CASE("mxsim: initial sync with timeline limit 0 gives full state and a limited timeline", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string room_id = sim.create_room(bot, {{"name", "Ops"}});
  Reply sync = sim.get("/_matrix/client/v3/sync?filter=" + filter({{"room", {{"timeline", {{"limit", 0}}}}}}), bot);
  REQUIRE(sync.status == 200);
  CHECK(sync.body["next_batch"].is_string());
  const auto& room = sync.body["rooms"]["join"][room_id];
  CHECK(room["timeline"]["events"].empty());
  CHECK(room["timeline"]["limited"] == true);
  CHECK(has_state(room["state"]["events"], "m.room.create"));
  CHECK(has_state(room["state"]["events"], "m.room.power_levels"));
  CHECK(has_state(room["state"]["events"], "m.room.name"));
}

TEST_CASE("mxsim: incremental sync returns only changed rooms", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string quiet = sim.create_room(bot, {{"name", "Quiet"}});
  std::string busy = sim.create_room(bot, {{"name", "Busy"}});
  Reply first = sim.get("/_matrix/client/v3/sync", bot);
  std::string since = first.body["next_batch"];

  REQUIRE(sim.put_state(bot, busy, "m.room.topic", "", {{"topic", "new"}}).status == 200);
  Reply next = sim.get("/_matrix/client/v3/sync?since=" + since, bot);
  REQUIRE(next.status == 200);
  const auto& joined = next.body["rooms"]["join"];
  CHECK(joined.contains(busy));
  CHECK(!joined.contains(quiet));
  const auto& timeline = joined[busy]["timeline"]["events"];
  REQUIRE(timeline.size() == 1);
  CHECK(timeline[0]["type"] == "m.room.topic");
  CHECK(timeline[0]["content"]["topic"] == "new");
  CHECK(next.body["next_batch"] != since);

  SECTION("nothing new: no rooms at all") {
    Reply empty = sim.get("/_matrix/client/v3/sync?since=" + next.body["next_batch"].get<std::string>(), bot);
    CHECK(!empty.body.contains("rooms"));
  }
}

TEST_CASE("mxsim: a since token answers as Synapse's does", "[mxsim]") {
  // Synapse 1.67 (types.py StreamToken.from_string): a token that does not
  // parse is 400 M_UNKNOWN "Invalid stream token"; one that parses is taken
  // even when it is ahead of the server, which then answers from its own
  // position: no rooms, a next_batch behind the token.
  Sim sim;
  std::string bot = sim.user("bot");
  std::string room_id = sim.create_room(bot, {{"name", "Ops"}});
  for (const char* bogus : {"bogus", "s", "s12abc", "s12__3"}) {
    INFO(bogus);
    Reply refused = sim.get(std::string("/_matrix/client/v3/sync?timeout=0&since=") + bogus, bot);
    CHECK(refused.status == 400);
    CHECK(refused.body["errcode"] == "M_UNKNOWN");
    CHECK(refused.body["error"] == "Invalid stream token");
  }
  Reply current = sim.get("/_matrix/client/v3/sync", bot);
  REQUIRE(current.status == 200);
  REQUIRE(sim.put_state(bot, room_id, "m.room.name", "", {{"name", "Renamed"}}).status == 200);
  Reply ahead = sim.get("/_matrix/client/v3/sync?timeout=0&since=s99999999_4_0_1", bot);
  REQUIRE(ahead.status == 200);
  CHECK(!ahead.body.contains("rooms"));
  const std::string next = ahead.body["next_batch"];
  CHECK(std::stoll(next.substr(1)) < 99999999);
  CHECK(std::stoll(next.substr(1)) > std::stoll(current.body["next_batch"].get<std::string>().substr(1)));
}

TEST_CASE("mxsim: invites show up in rooms.invite with stripped state", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string alice = sim.user("alice");
  std::string room_id = sim.create_room(bot, {{"name", "Secret"}, {"invite", {"@alice:mxsim.test"}}});
  Reply sync = sim.get("/_matrix/client/v3/sync", alice);
  const auto& invite = sync.body["rooms"]["invite"][room_id]["invite_state"]["events"];
  CHECK(has_state(invite, "m.room.name"));
  CHECK(has_state(invite, "m.room.member"));
  CHECK(!sync.body["rooms"].contains("join"));
}

TEST_CASE("mxsim: sync filters on rooms and state types", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string wanted = sim.create_room(bot, {{"name", "A"}});
  std::string other = sim.create_room(bot, {{"name", "B"}});
  Reply sync = sim.get("/_matrix/client/v3/sync?filter=" +
                           filter({{"room",
                                    {{"rooms", {wanted}},
                                     {"timeline", {{"limit", 0}}},
                                     {"state", {{"types", {"m.room.name", "m.room.power_*"}}}}}}}),
                       bot);
  const auto& joined = sync.body["rooms"]["join"];
  CHECK(joined.contains(wanted));
  CHECK(!joined.contains(other));
  const auto& state = joined[wanted]["state"]["events"];
  CHECK(state.size() == 2);
  CHECK(has_state(state, "m.room.name"));
  CHECK(has_state(state, "m.room.power_levels"));
}

TEST_CASE("mxsim: event_fields keeps only the named fields of a room's events, as Synapse's only_fields", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string room_id = sim.create_room(bot, {{"name", "Ops"}});
  REQUIRE(sim.put(Sim::room_path(room_id, "/send/m.room.message/t1"), bot, {{"msgtype", "m.text"}, {"body", "hi"}})
              .status == 200);
  Reply sync = sim.get("/_matrix/client/v3/sync?filter=" +
                           filter({{"event_fields", {"type", "state_key", "content.name", "content.no\\.such"}},
                                   {"room", {{"timeline", {{"limit", 1}}}}}}),
                       bot);
  REQUIRE(sync.status == 200);
  const auto& room = sync.body["rooms"]["join"][room_id];
  bool saw_name = false;
  for (const auto& event : room["state"]["events"]) {
    CHECK_FALSE(event.contains("event_id"));
    CHECK_FALSE(event.contains("sender"));
    CHECK_FALSE(event.contains("origin_server_ts"));
    CHECK(event.contains("state_key"));
    if (event["type"] == "m.room.name") {
      saw_name = true;
      CHECK(event["content"] == nlohmann::json{{"name", "Ops"}});
    } else {
      // Only where the path exists: no empty content for other events.
      CHECK_FALSE(event.contains("content"));
    }
  }
  CHECK(saw_name);
  REQUIRE(room["timeline"]["events"].size() == 1);
  CHECK(room["timeline"]["events"][0] == nlohmann::json{{"type", "m.room.message"}});
  SECTION("without it every field stays") {
    Reply full = sim.get("/_matrix/client/v3/sync?filter=" + filter({{"room", {{"timeline", {{"limit", 1}}}}}}), bot);
    CHECK(full.body["rooms"]["join"][room_id]["timeline"]["events"][0].contains("event_id"));
  }
}

TEST_CASE("mxsim: a left room appears once in rooms.leave", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string alice = sim.user("alice");
  std::string room_id = sim.create_room(bot, {{"preset", "public_chat"}});
  REQUIRE(sim.join(alice, room_id).status == 200);
  std::string since = sim.get("/_matrix/client/v3/sync", alice).body["next_batch"];
  REQUIRE(sim.member_action(bot, room_id, "kick", sim.id("alice")).status == 200);
  Reply sync = sim.get("/_matrix/client/v3/sync?since=" + since, alice);
  CHECK(sync.body["rooms"]["leave"].contains(room_id));
}

TEST_CASE("mxsim: account data changes appear in sync", "[mxsim]") {
  Sim sim;
  std::string alice = sim.user("alice");
  std::string since = sim.get("/_matrix/client/v3/sync", alice).body["next_batch"];
  REQUIRE(sim.put("/_matrix/client/v3/user/" + enc("@alice:mxsim.test") + "/account_data/m.direct", alice,
                  {{"@bob:mxsim.test", {"!r:mxsim.test"}}})
              .status == 200);
  Reply sync = sim.get("/_matrix/client/v3/sync?since=" + since, alice);
  REQUIRE(sync.body["account_data"]["events"].size() == 1);
  CHECK(sync.body["account_data"]["events"][0]["type"] == "m.direct");
}

TEST_CASE("mxsim: an identical repeated sync is answered from the cache, as Synapse does", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string since = sim.get("/_matrix/client/v3/sync", bot).body["next_batch"];
  Reply before = sim.get("/_matrix/client/v3/sync?since=" + since, bot);
  std::string room_id = sim.create_room(bot);
  Reply repeated = sim.get("/_matrix/client/v3/sync?since=" + since, bot);
  CHECK(repeated.body == before.body);
  sim.hs().sync_cache().clear();
  Reply fresh = sim.get("/_matrix/client/v3/sync?since=" + since, bot);
  CHECK(fresh.body["rooms"]["join"].contains(room_id));
}

TEST_CASE("mxsim: a sync with a timeout waits for the next change", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string room_id = sim.create_room(bot);
  std::string since = sim.get("/_matrix/client/v3/sync", bot).body["next_batch"];
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    mxsim_test::Sim* unused = nullptr;
    (void)unused;
    httplib::Client client("127.0.0.1", sim.server().port());
    client.Put(("/_matrix/client/v3/rooms/" + enc(room_id) + "/send/m.room.message/t1").c_str(),
               {{"Authorization", "Bearer " + bot}}, R"({"body":"wake"})", "application/json");
  });
  auto started = std::chrono::steady_clock::now();
  Reply sync = sim.get("/_matrix/client/v3/sync?timeout=5000&since=" + since, bot);
  auto waited = std::chrono::steady_clock::now() - started;
  writer.join();
  CHECK(waited < std::chrono::seconds(4));
  CHECK(sync.body["rooms"]["join"].contains(room_id));
}

TEST_CASE("mxsim: a bad since token is 400", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  Reply reply = sim.get("/_matrix/client/v3/sync?since=garbage", bot);
  CHECK(reply.status == 400);
}

TEST_CASE("mxsim: stopping the server ends pending long-polls at once", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string since = sim.get("/_matrix/client/v3/sync", bot).body["next_batch"];
  std::thread poller([&] {
    httplib::Client client("127.0.0.1", sim.server().port());
    client.set_read_timeout(60, 0);
    client.Get(("/_matrix/client/v3/sync?timeout=30000&since=" + since).c_str(), {{"Authorization", "Bearer " + bot}});
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto started = std::chrono::steady_clock::now();
  sim.server().stop();
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
  poller.join();
}

}  // namespace sync_test
