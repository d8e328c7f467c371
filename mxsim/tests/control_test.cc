// Fault injection, rate limiting, the request journal and the /_mxsim control endpoint.

#include <catch2/catch.hpp>

#include <chrono>

#include "mxsim/tests/sim_fixture.h"

namespace control_test {

using mxsim_test::enc;
using mxsim_test::Reply;
using mxsim_test::Sim;

TEST_CASE("mxsim: injected faults fail the next N matching requests", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot");

  SECTION("status and errcode, in-process") {
    sim.hs().faults().fail_next("POST", "/_matrix/client/v3/createRoom", 2, 502, "M_UNKNOWN");
    Reply first = sim.post("/_matrix/client/v3/createRoom", bot, nlohmann::json::object());
    CHECK(first.status == 502);
    CHECK(first.errcode() == "M_UNKNOWN");
    CHECK(sim.post("/_matrix/client/v3/createRoom", bot, nlohmann::json::object()).status == 502);
    CHECK(sim.post("/_matrix/client/v3/createRoom", bot, nlohmann::json::object()).status == 200);
    CHECK(sim.get("/_matrix/client/v3/account/whoami", bot).status == 200);
  }
  SECTION("a 429 with retry_after_ms and Retry-After") {
    mxsim::FaultRule rule;
    rule.method = "GET";
    rule.path_regex = "/account/whoami$";
    rule.status = 429;
    rule.errcode = "M_LIMIT_EXCEEDED";
    rule.retry_after_ms = 1500;
    sim.hs().faults().add(rule);
    Reply limited = sim.get("/_matrix/client/v3/account/whoami", bot);
    CHECK(limited.status == 429);
    CHECK(limited.errcode() == "M_LIMIT_EXCEEDED");
    CHECK(limited.body["retry_after_ms"] == 1500);
    auto header = limited.headers.find("Retry-After");
    REQUIRE(header != limited.headers.end());
    CHECK(header->second == "2");
  }
  SECTION("a dropped connection") {
    mxsim::FaultRule rule;
    rule.path_prefix = "/_matrix/client/v3/account/whoami";
    rule.drop = true;
    sim.hs().faults().add(rule);
    CHECK(sim.get("/_matrix/client/v3/account/whoami", bot).status != 200);
    CHECK(sim.get("/_matrix/client/v3/account/whoami", bot).status == 200);
  }
  SECTION("a delay, then normal handling") {
    mxsim::FaultRule rule;
    rule.path_prefix = "/_matrix/client/v3/account/whoami";
    rule.delay_ms = 300;
    sim.hs().faults().add(rule);
    auto started = std::chrono::steady_clock::now();
    CHECK(sim.get("/_matrix/client/v3/account/whoami", bot).status == 200);
    CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(300));
  }
  SECTION("prefixes match decoded room ids too") {
    std::string room_id = sim.create_room(bot);
    sim.hs().faults().fail_next("PUT", "/_matrix/client/v3/rooms/" + room_id + "/state", 1, 500);
    CHECK(sim.put_state(bot, room_id, "m.room.topic", "", {{"topic", "x"}}).status == 500);
    CHECK(sim.put_state(bot, room_id, "m.room.topic", "", {{"topic", "x"}}).status == 200);
  }
}

TEST_CASE("mxsim: the control endpoint manages faults and needs an admin", "[mxsim]") {
  Sim sim;
  std::string admin = sim.user("admin", true);
  std::string alice = sim.user("alice");
  CHECK(sim.get("/_mxsim/health").status == 200);
  CHECK(sim.get("/_mxsim/stats").status == 401);
  CHECK(sim.get("/_mxsim/stats", alice).status == 403);

  Reply added = sim.post("/_mxsim/faults", admin,
                         {{"method", "GET"}, {"path_prefix", "/_matrix/client/v3/joined_rooms"}, {"times", 1},
                          {"status", 503}, {"errcode", "M_UNKNOWN"}});
  REQUIRE(added.status == 200);
  CHECK(sim.get("/_mxsim/faults", admin).body["faults"].size() == 1);
  CHECK(sim.get("/_matrix/client/v3/joined_rooms", alice).status == 503);
  CHECK(sim.get("/_mxsim/faults", admin).body["faults"].empty());

  REQUIRE(sim.post("/_mxsim/faults", admin, {{"path_prefix", "/_matrix"}, {"times", -1}, {"status", 500}}).status == 200);
  CHECK(sim.get("/_matrix/client/v3/joined_rooms", alice).status == 500);
  CHECK(sim.get("/_matrix/client/v3/joined_rooms", alice).status == 500);
  REQUIRE(sim.del("/_mxsim/faults", admin).status == 200);
  CHECK(sim.get("/_matrix/client/v3/joined_rooms", alice).status == 200);

  Reply bad = sim.post("/_mxsim/faults", admin, {{"path_prefix", "/x"}});
  CHECK(bad.status == 400);

  SECTION("a control token works as well") {
    sim.hs().mutable_settings().control_token = "ctl";
    CHECK(sim.get("/_mxsim/stats", "ctl").status == 200);
  }
}

TEST_CASE("mxsim: the journal counts reads and writes per route", "[mxsim]") {
  Sim sim;
  std::string admin = sim.user("admin", true);
  std::string room_id = sim.create_room(admin);
  sim.put_state(admin, room_id, "m.room.topic", "", {{"topic", "x"}});
  sim.get_state(admin, room_id, "m.room.topic");

  mxsim::JournalStats stats = sim.hs().journal().stats();
  CHECK(stats.writes == 2);
  CHECK(stats.reads == 1);
  CHECK(sim.hs().journal().count("PUT /_matrix/client/v3/rooms/{roomId}/state/{eventType}/{stateKey*}") == 1);

  Reply over_http = sim.get("/_mxsim/stats", admin);
  CHECK(over_http.body["writes"] == 2);
  CHECK(over_http.body["by_route"]["POST /_matrix/client/v3/createRoom"] == 1);

  Reply journal = sim.get("/_mxsim/journal", admin);
  REQUIRE(journal.body["entries"].size() == 3);
  CHECK(journal.body["entries"][0]["route"] == "POST /_matrix/client/v3/createRoom");
  CHECK(journal.body["entries"][0]["user_id"] == "@admin:mxsim.test");
  CHECK(journal.body["entries"][2]["status"] == 200);

  SECTION("reset-stats starts a pass from zero") {
    REQUIRE(sim.post("/_mxsim/reset-stats", admin).status == 200);
    sim.get_state(admin, room_id, "m.room.topic");
    CHECK(sim.hs().journal().writes() == 0);
    CHECK(sim.hs().journal().reads() == 1);
    uint64_t seq = sim.hs().journal().last_seq();
    CHECK(sim.get("/_mxsim/journal?after=" + std::to_string(seq), admin).body["entries"].empty());
  }
}

TEST_CASE("mxsim: rate limiting answers 429 M_LIMIT_EXCEEDED when switched on", "[mxsim]") {
  Sim sim;
  std::string admin = sim.user("admin", true);
  std::string bot = sim.user("bot");
  std::string room_id = sim.create_room(bot);
  sim.hs().rate_limiter().configure("message", {0.5, 2});
  sim.hs().rate_limiter().set_enabled(true);

  auto send = [&](const std::string& token, int n) {
    return sim.put(Sim::room_path(room_id, "/send/m.room.message/t" + std::to_string(n)), token, {{"body", "x"}});
  };
  CHECK(send(bot, 1).status == 200);
  CHECK(send(bot, 2).status == 200);
  Reply limited = send(bot, 3);
  CHECK(limited.status == 429);
  CHECK(limited.errcode() == "M_LIMIT_EXCEEDED");
  CHECK(limited.body["retry_after_ms"].get<int>() > 0);
  CHECK(limited.headers.count("Retry-After") == 1);

  SECTION("a 0/0 override exempts the user") {
    REQUIRE(sim.post("/_synapse/admin/v1/users/" + enc("@bot:mxsim.test") + "/override_ratelimit", admin,
                     {{"messages_per_second", 0}, {"burst_count", 0}})
                .status == 200);
    for (int n = 10; n < 20; ++n) {
      CHECK(send(bot, n).status == 200);
    }
  }
  SECTION("switching it off through the control endpoint") {
    REQUIRE(sim.post("/_mxsim/ratelimit", admin, {{"enabled", false}}).status == 200);
    CHECK(send(bot, 4).status == 200);
  }
}

TEST_CASE("mxsim: a createRoom inviting more than the per-room invite burst is refused, as on Synapse", "[mxsim]") {
  Sim sim;
  std::string admin = sim.user("admin", true);
  std::string bot = sim.user("bot");
  std::vector<std::string> invitees;
  for (int n = 0; n < 11; ++n) {
    sim.user("u" + std::to_string(n));
    invitees.push_back("@u" + std::to_string(n) + ":mxsim.test");
  }
  sim.hs().rate_limiter().set_enabled(true);
  const std::vector<std::string> ten(invitees.begin(), invitees.begin() + 10);
  auto create = [&](const std::vector<std::string>& users) {
    return sim.post("/_matrix/client/v3/createRoom", bot, {{"preset", "private_chat"}, {"invite", users}});
  };
  // Ten is the burst; the invites use no slot, so it holds room after room.
  for (int round = 0; round < 3; ++round) {
    CHECK(create(ten).status == 200);
  }
  Reply refused = create(invitees);
  CHECK(refused.status == 400);
  CHECK(refused.errcode() == "M_UNKNOWN");
  CHECK(refused.body["error"] == "Cannot invite so many users at once");
  SECTION("a 0/0 override exempts the user") {
    REQUIRE(sim.post("/_synapse/admin/v1/users/" + enc("@bot:mxsim.test") + "/override_ratelimit", admin,
                     {{"messages_per_second", 0}, {"burst_count", 0}})
                .status == 200);
    CHECK(create(invitees).status == 200);
  }
  SECTION("without rate limits any number goes") {
    sim.hs().rate_limiter().set_enabled(false);
    CHECK(create(invitees).status == 200);
  }
}

}  // namespace control_test
