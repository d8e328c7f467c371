// What the executor leaves the next observation, and how the planner hands
// it over: the rooms an apply wrote to (re-read in full next time, then
// forgotten), and the room creations journalled before createRoom is sent.

#include <catch2/catch.hpp>

#include "controller/apply_plan.h"
#include "controller/planner.h"
#include "tests/fakes/fake_homeserver.h"
#include "tests/fakes/fake_state_store.h"

namespace observe_hints_test {

namespace {

constexpr std::int64_t k_run = 3;
using Rooms = std::set<std::string>;

model::Room room(const std::string& key) {
  model::Room out;
  out.key = key;
  out.alias = "#mxctl." + key + ":example.org";
  out.name = key;
  return out;
}

model::Operation operation(model::Operation::Kind kind, const std::string& key,
                           std::vector<std::size_t> depends_on = {}) {
  model::Operation op;
  op.kind = kind;
  op.room_key = key;
  op.depends_on = std::move(depends_on);
  return op;
}

// A port that records the hints it is given and answers like an empty server.
class HintRecorder final : public adapters::HomeserverPort {
 public:
  model::Result<adapters::Observation> observe(const model::MatrixState&,
                                               const adapters::ObserveHints& hints) override {
    seen = hints;
    adapters::Observation out;
    out.sync_token = "s2";
    return out;
  }
  model::Result<adapters::OperationOutcome> execute(const model::Operation&,
                                                    const adapters::ExecutionContext&) override {
    return adapters::OperationOutcome{};
  }
  adapters::ObserveHints seen;
};

}  // namespace

TEST_CASE("executor: each room written to is recorded once for the next observation", "[executor][hints]") {
  model::MatrixState desired;
  for (const char* key : {"new", "old", "quiet"}) {
    desired.rooms[key] = room(key);
  }
  desired.rooms["new"].once_message = model::OnceMessage{"txn-1", "hello"};
  fakes::FakeHomeserver server("example.org");
  model::ObservedState existing;
  existing.rooms["old"] = model::ObservedRoom{"!old:example.org", "old", desired.rooms["old"], {}};
  existing.rooms["quiet"] = model::ObservedRoom{"!quiet:example.org", "quiet", desired.rooms["quiet"], {}};
  server.set_state(existing);

  model::Plan plan;
  plan.operations.push_back(operation(model::Operation::Kind::create_room, "new"));
  model::Operation invite = operation(model::Operation::Kind::invite, "new", {0});
  invite.user_id = "@zed:example.org";
  plan.operations.push_back(invite);
  plan.operations.push_back(operation(model::Operation::Kind::send_message, "new", {0}));
  model::Operation topic = operation(model::Operation::Kind::set_state, "old");
  topic.field = model::StateField::topic;
  plan.operations.push_back(topic);
  // It exists already: nothing is written, so nothing to re-read.
  plan.operations.push_back(operation(model::Operation::Kind::create_room, "quiet"));

  fakes::FakeStateStore store;
  controller::ExecutorOptions options;
  const std::map<std::string, std::string> known = {{"old", "!old:example.org"}, {"quiet", "!quiet:example.org"}};
  SECTION("an apply") {
    controller::ApplyReport report = controller::apply_plan(plan, desired, server, store, k_run, options, known);
    REQUIRE(report.ok());
    const std::string new_id = store.room_ids()->at("new");
    CHECK(store.rooms_written() == Rooms{new_id, "!old:example.org"});
    CHECK(report.operations[4].status == controller::OperationReport::Status::already_done);

    // The creation was journalled before any was attempted, then its result.
    std::vector<std::string> creation;
    auto journal = store.journal(k_run);
    REQUIRE(journal);
    for (const adapters::JournalEntry& entry : *journal) {
      if (entry.operation == "create room new") {
        creation.push_back(entry.result);
      }
    }
    CHECK(creation == std::vector<std::string>{"planned", "ok"});
    CHECK(store.journaled_room_creations() == Rooms{"new", "quiet"});
  }
  SECTION("a dry run records nothing") {
    controller::dry_run_plan(plan, desired, options, known);
    CHECK(store.rooms_written() == Rooms{});
    CHECK(store.journaled_room_creations() == Rooms{});
  }
}

TEST_CASE("planner: the rooms written and the creations journalled are hints, and the rooms are forgotten once read",
          "[planner][hints]") {
  fakes::FakeStateStore store;
  REQUIRE(store.mark_room_written("!a:example.org"));
  REQUIRE(store.mark_room_written("!b:example.org"));
  auto run = store.begin_run("apply");
  REQUIRE(run);
  REQUIRE(store.record(adapters::JournalEntry{*run, "create room a", "planned", "", "", 0, {}}));
  HintRecorder port;

  auto planned = controller::make_plan(model::MatrixState{}, port, store, {}, {});
  REQUIRE(planned);
  CHECK(port.seen.rooms_written == Rooms{"!a:example.org", "!b:example.org"});
  CHECK(port.seen.rooms_created == Rooms{"a"});
  CHECK(store.rooms_written() == Rooms{});
  CHECK(store.sync_token() == std::string("s2"));

  SECTION("a room written after the observation's hints were read is kept for the next one") {
    REQUIRE(store.mark_room_written("!c:example.org"));
    REQUIRE(controller::make_plan(model::MatrixState{}, port, store, {}, {}));
    CHECK(port.seen.rooms_written == Rooms{"!c:example.org"});
    CHECK(store.rooms_written() == Rooms{});
  }
  SECTION("a failed observation forgets nothing") {
    class Failing final : public adapters::HomeserverPort {
     public:
      model::Result<adapters::Observation> observe(const model::MatrixState&, const adapters::ObserveHints&) override {
        return model::fail(model::Error::Kind::transient, "down");
      }
      model::Result<adapters::OperationOutcome> execute(const model::Operation&,
                                                        const adapters::ExecutionContext&) override {
        return adapters::OperationOutcome{};
      }
    } failing;
    REQUIRE(store.mark_room_written("!c:example.org"));
    REQUIRE_FALSE(controller::make_plan(model::MatrixState{}, failing, store, {}, {}));
    CHECK(store.rooms_written() == Rooms{"!c:example.org"});
  }
}

}  // namespace observe_hints_test
