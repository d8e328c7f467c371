// The fixed request delay (--delay-ms, POST /_mxsim/delay) that benchmarks
// use to model a server across a network.

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>
#include <vector>

#include "mxsim/tests/sim_fixture.h"

namespace delay_test {

using mxsim_test::Reply;
using mxsim_test::Sim;

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace

TEST_CASE("mxsim: a request delay makes every answer late but is no fault", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot", true);
  REQUIRE(sim.get("/_mxsim/delay", bot).body == nlohmann::json{{"ms", 0}});

  Reply set = sim.post("/_mxsim/delay", bot, {{"ms", 150}});
  REQUIRE(set.status == 200);
  CHECK(set.body == nlohmann::json{{"ms", 150}});
  CHECK(sim.hs().request_delay() == std::chrono::milliseconds(150));

  auto start = Clock::now();
  CHECK(sim.get("/_matrix/client/v3/account/whoami", bot).status == 200);
  // A lower bound only: how much later it may come depends on the machine.
  CHECK(ms_since(start) >= 150);
  CHECK(sim.hs().journal().stats().faults == 0);

  SECTION("the control endpoint itself is not delayed, and 0 switches it off") {
    CHECK(sim.post("/_mxsim/delay", bot, {{"ms", 0}}).status == 200);
    CHECK(sim.hs().request_delay() == std::chrono::milliseconds(0));
  }
  SECTION("a negative or missing delay is refused") {
    CHECK(sim.post("/_mxsim/delay", bot, {{"ms", -1}}).status == 400);
    CHECK(sim.post("/_mxsim/delay", bot, nlohmann::json::object()).status == 400);
    CHECK(sim.hs().request_delay() == std::chrono::milliseconds(150));
  }
  SECTION("only admins set it") {
    std::string someone = sim.user("someone");
    CHECK(sim.post("/_mxsim/delay", someone, {{"ms", 1}}).status == 403);
  }
}

TEST_CASE("mxsim: concurrent requests wait out the delay side by side", "[mxsim]") {
  Sim sim;
  std::string bot = sim.user("bot", true);
  sim.hs().set_request_delay(std::chrono::milliseconds(400));
  auto start = Clock::now();
  std::vector<int> statuses(4, 0);
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i) {
    // One connection per thread, as a client with requests in flight has;
    // Catch2 assertions are not thread-safe, so results are checked after.
    clients.emplace_back([&sim, &bot, &statuses, i] {
      httplib::Client client("127.0.0.1", sim.server().port());
      auto result = client.Get("/_matrix/client/v3/account/whoami", {{"Authorization", "Bearer " + bot}});
      statuses[i] = result ? result->status : 0;
    });
  }
  for (std::thread& client : clients) {
    client.join();
  }
  CHECK(statuses == std::vector<int>(4, 200));
  // Waiting one after another would take 1,600 ms; side by side about 400.
  CHECK(ms_since(start) < 1200);
}

}  // namespace delay_test
