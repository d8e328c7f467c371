// A room mxctl created is never refused as foreign. On Synapse createRoom
// registers the alias before the room's initial state (the marker among it)
// is readable; a pass right after an apply killed in that window used to
// refuse the room ("… which has no mxctl marker; mxctl will not take it
// over"). mxsim's creation lag reproduces the window. Rooms that really are
// someone else's are still refused, and without waiting.

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "adapters/store/sqlite_db.h"
#include "adapters/state_store.h"
#include "tests/e2e/fixture.h"

namespace creation_window_test {

namespace {

using Clock = std::chrono::steady_clock;
const std::string k_state_route = "GET /_matrix/client/v3/rooms/{roomId}/state";
const std::string k_refusal = "mxctl will not take it over";

const std::string k_late_room = R"(---
apiVersion: mxctl/v1
kind: CoordinationRoom
metadata:
  name: request-late
spec:
  between: [alice, bob]
  request: "late"
)";

// The one desired room the manifests gained since `before`.
e2e::DesiredRoom added_room(const e2e::Fixture& fx, const std::vector<e2e::DesiredRoom>& before) {
  for (const e2e::DesiredRoom& room : e2e::desired_rooms(fx)) {
    bool known = std::any_of(before.begin(), before.end(), [&](const e2e::DesiredRoom& old) { return old.key == room.key; });
    if (!known) {
      return room;
    }
  }
  FAIL("no room was added");
  return {};
}

// The room `alias` names in mxsim's directory, "" when none.
std::string alias_target(mxsim::Homeserver& homeserver, const std::string& alias) {
  auto lock = homeserver.read_lock();
  auto it = homeserver.state().aliases.find(alias);
  return it == homeserver.state().aliases.end() ? std::string() : it->second.room_id;
}

bool has_marker(mxsim::Homeserver& homeserver, const std::string& room_id) {
  auto lock = homeserver.read_lock();
  const mxsim::Room* room = homeserver.state().find_room(room_id);
  return room != nullptr && room->state_event(e2e::k_marker_type, "") != nullptr;
}

long state_reads_of(mxsim::Homeserver& homeserver, std::uint64_t after, const std::string& room_id) {
  long count = 0;
  for (const mxsim::JournalEntry& entry : homeserver.journal().entries(after)) {
    count += entry.route == k_state_route && entry.path.find(room_id) != std::string::npos ? 1 : 0;
  }
  return count;
}

// A converged example instance with one more room to create.
struct LateRoom {
  e2e::Fixture fx;
  e2e::DesiredRoom room;

  LateRoom() {
    auto apply = fx.mxctl({"apply", fx.manifests(), "--yes"});
    INFO(apply.out << apply.err);
    REQUIRE(apply.exit_code == 0);
    const std::vector<e2e::DesiredRoom> before = e2e::desired_rooms(fx);
    fx.write_manifest("late.yaml", k_late_room);
    room = added_room(fx, before);
  }

  // Starts an apply, kills it as soon as the new room's alias resolves
  // (its createRoom still in progress), and returns the room's id.
  std::string apply_killed_in_window() {
    fx.homeserver().set_creation_lag(std::chrono::milliseconds(4000));
    e2e::Child child({MXCTL_BINARY, "apply", fx.manifests(), "--yes"}, fx.env(), fx.scratch("apply.out"),
                     fx.scratch("apply.err"));
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    std::string room_id;
    while (child.running() && room_id.empty() && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      room_id = alias_target(fx.homeserver(), room.alias);
    }
    INFO(child.out() << child.err());
    REQUIRE_FALSE(room_id.empty());
    REQUIRE(child.running());
    child.kill_and_wait();
    // Still in the window: the marker is not there yet.
    REQUIRE_FALSE(has_marker(fx.homeserver(), room_id));
    return room_id;
  }
};

}  // namespace

TEST_CASE("e2e: the pass after an apply killed during createRoom waits for the room's marker and takes it as its own",
          "[e2e][creation]") {
  LateRoom late;
  e2e::Fixture& fx = late.fx;
  const std::string room_id = late.apply_killed_in_window();

  SECTION("with the journal's record of the creation, the room is mxctl's") {
    auto next = fx.mxctl({"apply", fx.manifests(), "--yes"});
    INFO(next.out << next.err);
    CHECK(next.exit_code == 0);
    CHECK(next.out.find(k_refusal) == std::string::npos);
    CHECK(has_marker(fx.homeserver(), room_id));
    auto plan = fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"});
    INFO(plan.out << plan.err);
    CHECK(plan.exit_code == 0);
    e2e::ServerAudit audit = e2e::audit(fx.homeserver());
    CHECK(e2e::ownership_problems(audit, e2e::desired_rooms(fx)) == std::vector<std::string>{});
    CHECK(audit.marked.at(late.room.key) == std::vector<std::string>{room_id});
  }
  SECTION("control: without that record (as before mxctl kept one) the room is refused") {
    {
      auto db = adapters::sqlite::Database::open(fx.state(), "open the store");
      REQUIRE(db);
      REQUIRE((*db)->exec(("DELETE FROM journal WHERE operation = 'create room " + late.room.key + "'").c_str(),
                          "forget the creation")
                  .has_value());
    }
    auto next = fx.mxctl({"plan", fx.manifests()});
    INFO(next.out << next.err);
    CHECK(next.out.find("alias " + late.room.alias + " belongs to room " + room_id + ", which has no mxctl marker; " +
                        k_refusal) != std::string::npos);
    // Once Synapse has finished, the marker shows and the room is found as usual.
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (!has_marker(fx.homeserver(), room_id) && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    auto later = fx.mxctl({"apply", fx.manifests(), "--yes"});
    INFO(later.out << later.err);
    CHECK(later.exit_code == 0);
    CHECK(e2e::ownership_problems(e2e::audit(fx.homeserver()), e2e::desired_rooms(fx)) == std::vector<std::string>{});
  }
}

TEST_CASE("e2e: a room holding our alias that mxctl did not create is still refused, without waiting",
          "[e2e][creation]") {
  LateRoom late;
  e2e::Fixture& fx = late.fx;
  const std::string localpart = late.room.alias.substr(1, late.room.alias.find(':') - 1);
  std::string squatter;

  SECTION("created by someone else, though the journal records a creation of the key") {
    // alice's room, readable by anyone: its creator shows at the first read.
    const std::string alice = fx.homeserver().issue_token("@alice:mxsim.test");
    mxsim::ApiResponse created = fx.homeserver().handle(mxsim::make_request(
        "POST", "/_matrix/client/v3/createRoom", {{"authorization", "Bearer " + alice}},
        nlohmann::json({{"room_alias_name", localpart},
                        {"initial_state",
                         {{{"type", "m.room.history_visibility"},
                           {"state_key", ""},
                           {"content", {{"history_visibility", "world_readable"}}}}}}})
            .dump()));
    REQUIRE(created.status == 200);
    squatter = created.body["room_id"];
    auto store = adapters::open_sqlite_store(fx.state());
    REQUIRE(store);
    auto run = (*store)->begin_run("apply");
    REQUIRE(run);
    REQUIRE((*store)->record(adapters::JournalEntry{*run, "create room " + late.room.key, "failed", "", "", 1, {}}));
    REQUIRE((*store)->finish_run(*run, "failed", 0, 1));
  }
  SECTION("created by the bot, but no journal record of the creation") {
    mxsim::ApiResponse created =
        fx.as_bot("POST", "/_matrix/client/v3/createRoom", {{"room_alias_name", localpart}});
    REQUIRE(created.status == 200);
    squatter = created.body["room_id"];
  }

  const std::uint64_t before = fx.homeserver().journal().last_seq();
  auto plan = fx.mxctl({"plan", fx.manifests()});
  INFO(plan.out << plan.err);
  CHECK(plan.out.find("alias " + late.room.alias + " belongs to room " + squatter + ", which has no mxctl marker; " +
                      k_refusal) != std::string::npos);
  // Looked at once at most: not waited for.
  CHECK(state_reads_of(fx.homeserver(), before, squatter) <= 1);
  auto apply = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(apply.out << apply.err);
  CHECK(apply.out.find(k_refusal) != std::string::npos);
  e2e::ServerAudit audit = e2e::audit(fx.homeserver());
  CHECK(audit.marked.count(late.room.key) == 0);
  CHECK(audit.aliases.at(late.room.alias) == squatter);
}

}  // namespace creation_window_test
