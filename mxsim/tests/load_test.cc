// A bounded loopback load test (hidden: run with `mxsim_tests "[.load]"`):
// several keep-alive clients read state in parallel for a fixed time; the
// figure is printed. Target on a 2-core machine: >= 5,000 reads/second.

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <thread>

#include "mxsim/tests/sim_fixture.h"

namespace load_test {

using mxsim_test::enc;
using mxsim_test::Sim;

TEST_CASE("mxsim: simple reads per second over loopback", "[.load]") {
  Sim sim;
  std::string bot = sim.user("bot");
  std::string room_id = sim.create_room(bot, {{"name", "Load"}});
  const std::string path = "/_matrix/client/v3/rooms/" + enc(room_id) + "/state/m.room.name/";
  const int clients = 4;
  const auto duration = std::chrono::seconds(3);
  std::atomic<long> done{0};
  std::atomic<long> failed{0};
  auto deadline = std::chrono::steady_clock::now() + duration;
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&] {
      httplib::Client client("127.0.0.1", sim.server().port());
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      httplib::Headers headers{{"Authorization", "Bearer " + bot}};
      while (std::chrono::steady_clock::now() < deadline) {
        auto result = client.Get(path.c_str(), headers);
        if (result && result->status == 200) {
          ++done;
        } else {
          ++failed;
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  double per_second = static_cast<double>(done.load()) / std::chrono::duration<double>(duration).count();
  std::cout << "mxsim load: " << static_cast<long>(per_second) << " reads/s with " << clients
            << " keep-alive clients (" << failed.load() << " failed)\n";
  CHECK(failed.load() == 0);
  CHECK(per_second >= 5000);
}

}  // namespace load_test
