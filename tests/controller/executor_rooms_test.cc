// The executor keeps writes to one room apart: Synapse builds concurrent
// events of a room on the same parent, and an incremental /sync then misses
// one of them. A port that watches every room's calls fails the test when
// two are in flight at once, and shows that different rooms still overlap.

#include "controller/apply_plan.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "adapters/homeserver_port.h"
#include "model/compile.h"
#include "model/diff.h"
#include "model/plan.h"
#include "model/settings.h"
#include "model/topology.h"
#include "tests/fakes/fake_homeserver.h"
#include "tests/fakes/fake_state_store.h"

namespace executor_rooms_test {

namespace {

using std::chrono::milliseconds;
using Kind = model::Operation::Kind;
using Status = controller::OperationReport::Status;

constexpr std::int64_t k_run = 3;

// Answers after `latency` (through `inner` when given, else with success),
// recording per room how many calls were in flight at once. The rooms are
// worked out here, independently of the executor: the room an operation
// names, and for a deletion also the space it is unlinked from.
class RoomWatchPort final : public adapters::HomeserverPort {
 public:
  explicit RoomWatchPort(milliseconds latency, adapters::HomeserverPort* inner = nullptr)
      : m_latency(latency), m_inner(inner) {}

  model::Result<adapters::Observation> observe(const model::MatrixState& desired,
                                               const adapters::ObserveHints& hints) override {
    return m_inner ? m_inner->observe(desired, hints) : adapters::Observation{};
  }

  model::Result<adapters::OperationOutcome> execute(const model::Operation& op,
                                                    const adapters::ExecutionContext& context) override {
    const std::vector<std::string> rooms = rooms_of(op);
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      for (const std::string& room : rooms) {
        if (++m_in_flight[room] > 1) {
          m_overlaps.push_back(model::describe(op) + " while another write to " + room + " was in flight");
        }
      }
      std::size_t busy = 0;
      for (const auto& [room, count] : m_in_flight) {
        busy += count > 0 ? 1 : 0;
      }
      m_peak_rooms = std::max(m_peak_rooms, busy);
    }
    std::this_thread::sleep_for(m_latency);
    model::Result<adapters::OperationOutcome> result = adapters::OperationOutcome{};
    if (m_inner) {
      result = m_inner->execute(op, context);
    } else if (op.kind == Kind::create_room) {
      result = adapters::OperationOutcome{"!" + op.room_key + ":example.org", false};
    }
    std::lock_guard<std::mutex> lock(m_mutex);
    for (const std::string& room : rooms) {
      --m_in_flight[room];
    }
    return result;
  }

  /// One line per call that started while another call to one of its rooms ran.
  std::vector<std::string> overlaps() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_overlaps;
  }
  /// The most rooms that had a call in flight at the same time.
  std::size_t peak_rooms() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_peak_rooms;
  }

 private:
  static std::vector<std::string> rooms_of(const model::Operation& op) {
    switch (op.kind) {
      case Kind::set_direct:
      case Kind::create_account:
      case Kind::update_account:
      case Kind::suspend_account:
      case Kind::reactivate_account: return {};
      case Kind::delete_room:
        return op.link_key.empty() ? std::vector<std::string>{op.room_key}
                                   : std::vector<std::string>{op.room_key, op.link_key};
      default: return {op.room_key};
    }
  }

  milliseconds m_latency;
  adapters::HomeserverPort* m_inner;
  mutable std::mutex m_mutex;
  std::map<std::string, int> m_in_flight;
  std::vector<std::string> m_overlaps;
  std::size_t m_peak_rooms = 0;
};

model::Operation room_op(Kind kind, const std::string& room, const std::string& user = "") {
  model::Operation op;
  op.kind = kind;
  op.room_key = room;
  op.user_id = user;
  return op;
}

// Every write a pass makes to existing rooms after drift: a rename, a topic,
// invites, a kick and a message in each of `rooms` rooms, all independent.
model::Plan drift_plan(int rooms) {
  model::Plan plan;
  for (int r = 0; r < rooms; ++r) {
    const std::string room = "community/c" + std::to_string(r);
    model::Operation name = room_op(Kind::set_state, room);
    name.field = model::StateField::name;
    model::Operation topic = room_op(Kind::set_state, room);
    topic.field = model::StateField::topic;
    plan.operations.push_back(name);
    plan.operations.push_back(topic);
    for (const char* user : {"@a:example.org", "@b:example.org", "@c:example.org"}) {
      plan.operations.push_back(room_op(Kind::invite, room, user));
    }
    plan.operations.push_back(room_op(Kind::kick, room, "@z:example.org"));
    plan.operations.push_back(room_op(Kind::send_message, room));
  }
  return plan;
}

model::MatrixState riverside() {
  model::Settings settings;
  settings.server_name = "example.org";
  settings.bot_user_id = "@mxctl:example.org";
  model::Topology topology;
  for (const char* name : {"alice", "bob", "carol", "dana"}) {
    model::User user;
    user.name = name;
    user.localpart = name;
    topology.users.push_back(user);
  }
  model::Community community;
  community.name = "riverside";
  community.display_name = "Riverside Commons";
  for (const char* name : {"alice", "bob", "carol", "dana"}) {
    model::CommunityMember member;
    member.user = name;
    member.trust = 10;
    community.members.push_back(member);
  }
  topology.communities = {community};
  model::Council council;
  council.name = "disputes";
  council.community = "riverside";
  model::CouncilMember seat;
  seat.user = "alice";
  council.members = {seat};
  topology.councils = {council};
  return model::compile(topology, settings);
}

}  // namespace

TEST_CASE("executor: two writes to one room are never in flight together, other rooms are", "[executor][rooms]") {
  const model::Plan plan = drift_plan(6);
  RoomWatchPort port(milliseconds(5));
  fakes::FakeStateStore store;
  controller::ExecutorOptions options;
  options.max_in_flight = 8;
  controller::ApplyReport report = controller::apply_plan(plan, {}, port, store, k_run, options, {});

  CHECK(report.succeeded == static_cast<int>(plan.operations.size()));
  CHECK(port.overlaps() == std::vector<std::string>{});
  // Six rooms and eight workers: several rooms are written to at once.
  CHECK(port.peak_rooms() >= 2);
  CHECK(port.peak_rooms() <= 6);

  SECTION("--parallel 1 still runs everything in plan order") {
    RoomWatchPort serial(milliseconds(0));
    options.max_in_flight = 1;
    std::vector<std::size_t> order;
    controller::apply_plan(plan, {}, serial, store, k_run + 1, options, {},
                           [&](const controller::OperationReport& op) { order.push_back(op.index); });
    REQUIRE(order.size() == plan.operations.size());
    CHECK(std::is_sorted(order.begin(), order.end()));
    CHECK(serial.peak_rooms() == 1);
  }
}

TEST_CASE("executor: a whole instance converges with one write per room at a time", "[executor][rooms]") {
  const model::MatrixState desired = riverside();
  fakes::FakeHomeserver server("example.org");
  RoomWatchPort port(milliseconds(2), &server);
  fakes::FakeStateStore store;
  auto observation = server.observe(desired, {});
  REQUIRE(observation);
  model::DiffOptions diff;
  diff.bot_user_id = "@mxctl:example.org";
  const model::Plan plan = model::diff(desired, observation->state, diff);
  REQUIRE(plan.operations.size() > 10);
  controller::ExecutorOptions options;
  options.max_in_flight = 8;
  controller::ApplyReport report = controller::apply_plan(plan, desired, port, store, k_run, options, {});

  CHECK(report.ok());
  CHECK(port.overlaps() == std::vector<std::string>{});
  CHECK(port.peak_rooms() >= 2);
  auto again = server.observe(desired, {});
  REQUIRE(again);
  again->state.messages_sent = *store.messages_sent();
  again->state.directs_set = *store.directs_set();
  CHECK(model::diff(desired, again->state, diff).empty());
}

TEST_CASE("executor: deleting a room waits for writes to its space, and they for it", "[executor][rooms]") {
  model::Plan plan;
  model::Operation rename = room_op(Kind::set_state, "community/river");
  rename.field = model::StateField::name;
  model::Operation deletion = room_op(Kind::delete_room, "community/river/old");
  deletion.link_key = "community/river";
  model::Operation topic = room_op(Kind::set_state, "community/river");
  topic.field = model::StateField::topic;
  model::Operation elsewhere = room_op(Kind::invite, "community/hill", "@a:example.org");
  plan.operations = {rename, deletion, topic, elsewhere};
  RoomWatchPort port(milliseconds(10));
  fakes::FakeStateStore store;
  controller::ExecutorOptions options;
  options.max_in_flight = 4;
  controller::ApplyReport report = controller::apply_plan(plan, {}, port, store, k_run, options, {});
  CHECK(report.succeeded == 4);
  CHECK(port.overlaps() == std::vector<std::string>{});
  CHECK(port.peak_rooms() >= 2);
}

}  // namespace executor_rooms_test
