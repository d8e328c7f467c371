// Observation that /sync cannot mislead, against mxsim: the rooms an apply
// wrote to are read again in full by the next pass (then no more), which
// sees a change an incremental /sync left out; a killed apply's rooms are
// re-read too; and an appservice, which Synapse refuses /sync, observes
// with GET /rooms/{id}/state alone.

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "adapters/state_store.h"
#include "mxsim/ids.h"
#include "tests/e2e/appservice_fixture.h"
#include "tests/e2e/fixture.h"

namespace observation_test {

namespace {

using Clock = std::chrono::steady_clock;
const std::string k_state_route = "GET /_matrix/client/v3/rooms/{roomId}/state";
const std::string k_sync_route = "GET /_matrix/client/v3/sync";
const std::string k_topic = "Sharing tools, food and time along the river";
const std::string k_new_topic = "Sharing tools along the river";

std::unique_ptr<adapters::StateStore> store_at(const std::string& path) {
  auto store = adapters::open_sqlite_store(path);
  REQUIRE(store);
  return std::move(*store);
}

std::set<std::string> rooms_written(const std::string& path) {
  auto written = store_at(path)->rooms_written();
  REQUIRE(written);
  return *written;
}

// The room ids of the GET /rooms/{id}/state requests answered after `after`.
std::multiset<std::string> state_reads(mxsim::Homeserver& homeserver, std::uint64_t after) {
  std::multiset<std::string> out;
  for (const mxsim::JournalEntry& entry : homeserver.journal().entries(after)) {
    if (entry.route == k_state_route) {
      out.insert(entry.path.substr(std::string("/_matrix/client/v3/rooms/").size(),
                                   entry.path.size() - std::string("/_matrix/client/v3/rooms/").size() -
                                       std::string("/state").size()));
    }
  }
  return out;
}

std::string room_id_of(e2e::Fixture& fx, const std::string& alias) {
  mxsim::ApiResponse resolved =
      fx.as_bot("GET", "/_matrix/client/v3/directory/room/" + mxsim::percent_encode(alias), nullptr);
  REQUIRE(resolved.status == 200);
  return resolved.body["room_id"];
}

}  // namespace

TEST_CASE("e2e: the rooms an apply wrote to are re-read once, in full, and a change /sync missed is seen",
          "[e2e][observe]") {
  e2e::Fixture fx;
  auto apply = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(apply.out << apply.err);
  REQUIRE(apply.exit_code == 0);
  const std::set<std::string> written = rooms_written(fx.state());
  CHECK(written.size() == e2e::desired_rooms(fx).size());  // the apply made them all

  // The pass after the apply reads each of them with /state, once.
  std::uint64_t before = fx.homeserver().journal().last_seq();
  auto catch_up = fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"});
  INFO(catch_up.out << catch_up.err);
  REQUIRE(catch_up.exit_code == 0);
  CHECK(state_reads(fx.homeserver(), before) == std::multiset<std::string>(written.begin(), written.end()));
  CHECK(rooms_written(fx.state()).empty());
  // A pass after one that wrote nothing re-reads nothing.
  before = fx.homeserver().journal().last_seq();
  REQUIRE(fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"}).exit_code == 0);
  CHECK(state_reads(fx.homeserver(), before).empty());

  // mxctl changes one room's topic...
  fx.edit("communities.yaml", "topic: " + k_topic, "topic: " + k_new_topic);
  auto change = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(change.out << change.err);
  REQUIRE(change.exit_code == 0);
  const std::string riverside = room_id_of(fx, "#mxctl.community.riverside:mxsim.test");
  CHECK(rooms_written(fx.state()) == std::set<std::string>{riverside});
  // ...and the incremental /sync misses it, as Synapse's can after a fork:
  // the stored snapshot (taken before the apply) has the old topic, and the
  // token is moved past the change, so /sync has nothing to tell.
  {
    auto store = store_at(fx.state());
    auto snapshots = store->room_snapshots();
    REQUIRE(snapshots);
    REQUIRE(snapshots->at(riverside).find(k_topic) != std::string::npos);
    mxsim::ApiResponse now = fx.as_bot("GET", "/_matrix/client/v3/sync?timeout=0", nullptr);
    REQUIRE(now.status == 200);
    REQUIRE(store->save_observation(now.body["next_batch"], {}));
  }

  SECTION("the room mxctl wrote to is read with /state: the topic is seen as it is") {
    before = fx.homeserver().journal().last_seq();
    auto plan = fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"});
    INFO(plan.out << plan.err);
    CHECK(plan.exit_code == 0);
    CHECK(plan.out == "No changes. The homeserver matches the desired state.\n");
    CHECK(state_reads(fx.homeserver(), before) == std::multiset<std::string>{riverside});
  }
  SECTION("control: without the record of the write the stale snapshot stands") {
    REQUIRE(store_at(fx.state())->clear_rooms_written({riverside}));
    auto plan = fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"});
    INFO(plan.out << plan.err);
    CHECK(plan.exit_code == 2);
    CHECK(plan.out.find("~ topic = \"" + k_topic + "\" -> \"" + k_new_topic + "\"") != std::string::npos);
  }
}

TEST_CASE("e2e: the rooms a killed apply wrote to are re-read by the next pass", "[e2e][observe][crash]") {
  e2e::Fixture fx;
  // Slow enough that the apply is still writing when it is killed.
  mxsim::FaultRule slow;
  slow.times = -1;
  slow.delay_ms = 100;
  fx.homeserver().faults().add(slow);
  const std::string prefix = "/_matrix/client/v3/rooms/";
  auto room_writes = [&](std::uint64_t after, std::int64_t until_ms) {
    std::set<std::string> room_ids;
    for (const mxsim::JournalEntry& entry : fx.homeserver().journal().entries(after)) {
      if (entry.write && entry.status == 200 && entry.path.rfind(prefix, 0) == 0 && entry.ts_ms < until_ms) {
        room_ids.insert(entry.path.substr(prefix.size(), entry.path.find('/', prefix.size()) - prefix.size()));
      }
    }
    return room_ids;
  };
  const std::uint64_t start = fx.homeserver().journal().last_seq();
  // At most 8 in flight: a window that opens wider would finish before the kill.
  e2e::Child child({MXCTL_BINARY, "apply", fx.manifests(), "--yes", "--parallel", "8"}, fx.env(),
                   fx.scratch("apply.out"), fx.scratch("apply.err"));
  // Killed 400 ms after it began to write to rooms, halfway through.
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (child.running() && room_writes(start, mxsim::now_ms() + 1).empty() && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  INFO(child.err());
  REQUIRE(child.running());
  child.kill_and_wait();
  const std::int64_t killed_at = mxsim::now_ms();
  fx.homeserver().faults().clear();

  // Every room written well before the kill is in the store (group commit
  // may lose what the last 100 ms recorded).
  const std::set<std::string> expected = room_writes(start, killed_at - 250);
  REQUIRE_FALSE(expected.empty());
  const std::set<std::string> written = rooms_written(fx.state());
  for (const std::string& room_id : expected) {
    INFO(room_id);
    CHECK(written.count(room_id) == 1);
  }

  std::uint64_t before = fx.homeserver().journal().last_seq();
  auto next = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(next.out << next.err);
  REQUIRE(next.exit_code == 0);
  const std::multiset<std::string> reread = state_reads(fx.homeserver(), before);
  for (const std::string& room_id : written) {
    INFO(room_id);
    CHECK(reread.count(room_id) >= 1);
  }
  auto plan = fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"});
  INFO(plan.out << plan.err);
  CHECK(plan.exit_code == 0);
  CHECK(e2e::ownership_problems(e2e::audit(fx.homeserver()), e2e::desired_rooms(fx)) == std::vector<std::string>{});
}

TEST_CASE("e2e: an appservice observes with /state alone, keeps no sync token, and still sees drift",
          "[e2e][observe][appservice]") {
  e2e::AppserviceFixture fx;
  auto apply = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(apply.out << apply.err);
  REQUIRE(apply.exit_code == 0);
  auto plan = fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"});
  INFO(plan.out << plan.err);
  REQUIRE(plan.exit_code == 0);
  std::vector<std::string> routes = fx.routes_since(0);
  CHECK(std::count(routes.begin(), routes.end(), k_sync_route) == 0);
  CHECK(std::count(routes.begin(), routes.end(), k_state_route) > 0);
  {
    auto store = store_at(fx.state());
    CHECK(store->sync_token() == std::string());
    CHECK(store->room_snapshots() == std::map<std::string, std::string>{});
  }

  // A change behind mxctl's back, made as the appservice's sender.
  const std::map<std::string, std::string> as_bot = {{"authorization", "Bearer as_token_for_mxctl_e2e"}};
  mxsim::ApiResponse resolved = fx.homeserver().handle(mxsim::make_request(
      "GET", "/_matrix/client/v3/directory/room/" + mxsim::percent_encode("#mxctl.community.riverside:mxsim.test"),
      as_bot, ""));
  REQUIRE(resolved.status == 200);
  const std::string room_id = resolved.body["room_id"];
  REQUIRE(fx.homeserver()
              .handle(mxsim::make_request("PUT",
                                          "/_matrix/client/v3/rooms/" + mxsim::percent_encode(room_id) +
                                              "/state/m.room.topic/",
                                          as_bot, nlohmann::json({{"topic", "vandalised"}}).dump()))
              .status == 200);
  auto drift = fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"});
  INFO(drift.out << drift.err);
  CHECK(drift.exit_code == 2);
  CHECK(drift.out.find("~ topic = \"vandalised\" -> \"" + k_topic + "\"") != std::string::npos);
  REQUIRE(fx.mxctl({"apply", fx.manifests(), "--yes"}).exit_code == 0);
  CHECK(fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"}).exit_code == 0);
  routes = fx.routes_since(0);
  CHECK(std::count(routes.begin(), routes.end(), k_sync_route) == 0);
}

}  // namespace observation_test
