// The change feed's reading of /sync answers, and its waits over real HTTP
// against the simulator: a change wakes a wait, a quiet one times out with
// the position moved on, cancel() ends a wait at once.

#include "adapters/homeserver/sync_change_feed.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "mxsim/homeserver.h"
#include "mxsim/server.h"

namespace sync_change_feed_test {

using nlohmann::json;

TEST_CASE("change feed: the rooms a /sync answer shows moving", "[change_feed]") {
  json answer = {{"next_batch", "s42"},
                 {"rooms",
                  {{"join",
                    {{"!moved:x", {{"timeline", {{"events", json::array({{{"type", "m.room.name"}}})}}}}},
                     {"!state:x", {{"state", {{"events", json::array({{{"type", "m.room.topic"}}})}}}}},
                     {"!quiet:x", {{"timeline", {{"events", json::array()}}}, {"ephemeral", json::object()}}}}},
                   {"leave", {{"!kicked:x", json::object()}}}}}};
  auto notice = adapters::read_change_notice("GET /_matrix/client/v3/sync", answer);
  REQUIRE(notice);
  CHECK(notice->next_position == "s42");
  CHECK(notice->rooms == std::set<std::string>{"!moved:x", "!state:x", "!kicked:x"});
  CHECK(notice->changed());
}

TEST_CASE("change feed: mxctl's own writes coming back move nothing, and each is taken once", "[change_feed]") {
  adapters::OwnWrites own;
  own.add_event("$ours");
  own.add_membership("!a:x", "@bot:x", "@bob:x", "leave");
  const json ours = {{"type", "m.room.name"}, {"event_id", "$ours"}, {"sender", "@bot:x"}, {"state_key", ""}};
  const json kick = {{"type", "m.room.member"},
                     {"event_id", "$kick"},
                     {"sender", "@bot:x"},
                     {"state_key", "@bob:x"},
                     {"content", {{"membership", "leave"}}}};
  const json theirs = {{"type", "m.room.topic"}, {"event_id", "$theirs"}, {"sender", "@eve:x"}, {"state_key", ""}};
  auto answer_with = [](const json& timeline, const json& state) {
    return json{{"next_batch", "s2"},
                {"rooms",
                 {{"join", {{"!a:x", {{"timeline", {{"events", timeline}}}, {"state", {{"events", state}}}}}}}}}};
  };

  SECTION("only own writes: nothing changed, and the wait says why it ended") {
    auto notice = adapters::read_change_notice("GET /sync", answer_with(json::array({ours}), json::array({kick})), &own);
    REQUIRE(notice);
    CHECK_FALSE(notice->changed());
    CHECK(notice->only_own_writes);
    // The same events again are someone else's (a kick repeated, say).
    auto again = adapters::read_change_notice("GET /sync", answer_with(json::array({ours}), json::array({kick})), &own);
    REQUIRE(again);
    CHECK(again->rooms == std::set<std::string>{"!a:x"});
  }
  SECTION("an own write beside someone else's event: the room moved") {
    auto notice =
        adapters::read_change_notice("GET /sync", answer_with(json::array({ours}), json::array({theirs})), &own);
    REQUIRE(notice);
    CHECK(notice->rooms == std::set<std::string>{"!a:x"});
  }
  SECTION("a membership like an own one but from someone else: the room moved") {
    json other_kick = kick;
    other_kick["sender"] = "@eve:x";
    auto notice = adapters::read_change_notice("GET /sync", answer_with(json::array({other_kick}), json::array()), &own);
    REQUIRE(notice);
    CHECK(notice->changed());
  }
  SECTION("without the record, every event moves its room") {
    auto notice = adapters::read_change_notice("GET /sync", answer_with(json::array({ours}), json::array()));
    REQUIRE(notice);
    CHECK(notice->changed());
    CHECK_FALSE(notice->only_own_writes);
  }
}

TEST_CASE("change feed: an answer that is not a /sync answer is an error naming the field", "[change_feed]") {
  auto no_batch = adapters::read_change_notice("GET /_matrix/client/v3/sync", json{{"rooms", json::object()}});
  REQUIRE_FALSE(no_batch);
  CHECK(no_batch.error().message.find("next_batch") != std::string::npos);
  auto bad_room = adapters::read_change_notice(
      "GET /_matrix/client/v3/sync", json{{"next_batch", "s1"}, {"rooms", {{"join", {{"!a:x", 5}}}}}});
  REQUIRE_FALSE(bad_room);
  CHECK(bad_room.error().message.find("rooms.join.!a:x") != std::string::npos);
  auto bad_events = adapters::read_change_notice(
      "GET /_matrix/client/v3/sync",
      json{{"next_batch", "s1"}, {"rooms", {{"join", {{"!a:x", {{"timeline", {{"events", "no"}}}}}}}}}});
  REQUIRE_FALSE(bad_events);
  CHECK(bad_events.error().message.find("events") != std::string::npos);
  auto empty = adapters::read_change_notice("GET /_matrix/client/v3/sync", json{{"next_batch", "s9"}});
  REQUIRE(empty);
  CHECK_FALSE(empty->changed());
}

TEST_CASE("change feed: waits on the simulator over HTTP", "[change_feed]") {
  mxsim::Server server(mxsim::ServerOptions{"feed.test", "127.0.0.1", 0});
  server.start();
  server.homeserver().add_user("bot", "pw", true);
  const std::string token = server.homeserver().issue_token("@bot:feed.test");
  auto as_bot = [&](const std::string& method, const std::string& target, const json& body) {
    return server.homeserver().handle(
        mxsim::make_request(method, target, {{"authorization", "Bearer " + token}}, body.dump()));
  };
  mxsim::ApiResponse created = as_bot("POST", "/_matrix/client/v3/createRoom", json{{"name", "one"}});
  REQUIRE(created.status == 200);
  const std::string room_id = created.body["room_id"];
  adapters::SyncChangeFeed feed(server.base_url(), token, adapters::ClientOptions{}, std::chrono::seconds(30));

  // Without a position the feed only learns where the stream is.
  auto first = feed.wait("", std::chrono::milliseconds(0));
  REQUIRE(first);
  CHECK_FALSE(first->changed());
  REQUIRE_FALSE(first->next_position.empty());

  SECTION("a quiet wait times out with nothing changed") {
    const auto started = std::chrono::steady_clock::now();
    auto quiet = feed.wait(first->next_position, std::chrono::milliseconds(300));
    REQUIRE(quiet);
    CHECK_FALSE(quiet->changed());
    CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(250));
  }

  SECTION("a change wakes the wait and names the room") {
    std::thread writer([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      as_bot("PUT", "/_matrix/client/v3/rooms/" + room_id + "/state/m.room.topic/", json{{"topic", "changed"}});
    });
    const auto started = std::chrono::steady_clock::now();
    auto woken = feed.wait(first->next_position, std::chrono::seconds(20));
    writer.join();
    REQUIRE(woken);
    CHECK(woken->rooms == std::set<std::string>{room_id});
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
  }

  SECTION("a write recorded as mxctl's own comes back without waking anything") {
    adapters::OwnWrites own;
    feed.ignore_own_writes(&own);
    mxsim::ApiResponse written =
        as_bot("PUT", "/_matrix/client/v3/rooms/" + room_id + "/state/m.room.topic/", json{{"topic", "ours"}});
    REQUIRE(written.status == 200);
    own.add_event(written.body["event_id"]);
    auto echo = feed.wait(first->next_position, std::chrono::seconds(20));
    REQUIRE(echo);
    CHECK_FALSE(echo->changed());
    CHECK(echo->only_own_writes);
    // Someone else's write after it still wakes the next wait.
    as_bot("PUT", "/_matrix/client/v3/rooms/" + room_id + "/state/m.room.name/", json{{"name", "theirs"}});
    auto woken = feed.wait(echo->next_position, std::chrono::seconds(20));
    REQUIRE(woken);
    CHECK(woken->rooms == std::set<std::string>{room_id});
  }

  SECTION("cancel() ends a wait at once, and every later one") {
    std::thread canceller([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      feed.cancel();
    });
    const auto started = std::chrono::steady_clock::now();
    auto cut = feed.wait(first->next_position, std::chrono::seconds(25));
    canceller.join();
    CHECK_FALSE(cut);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
    CHECK_FALSE(feed.wait(first->next_position, std::chrono::seconds(25)));
  }
}

}  // namespace sync_change_feed_test
