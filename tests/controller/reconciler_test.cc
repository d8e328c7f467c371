// The reconciler in-process, end to end: a real SQLite store in memory and
// the in-memory homeserver, no process and no HTTP. Plan, apply and a
// converged re-plan; a failure skipping its dependants; the guards refusing
// before any write; a pass interrupted half-way and the next one resuming it.

#include "controller/reconciler.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "adapters/state_store.h"
#include "controller/clock.h"
#include "model/compile.h"
#include "model/settings.h"
#include "model/topology.h"
#include "tests/fakes/fake_homeserver.h"

namespace reconciler_test {

namespace {

using controller::Mode;
using controller::Refusal;
using Status = controller::OperationReport::Status;

const std::string k_bot = "@mxctl:example.org";
// 2026-03-02T10:00:00Z: the pass's instant, from a stopped clock.
constexpr std::int64_t k_now = 1772445600000;

model::Settings example_settings() {
  model::Settings settings;
  settings.server_name = "example.org";
  settings.bot_user_id = k_bot;
  return settings;
}

model::User make_user(const std::string& name) {
  model::User user;
  user.name = name;
  user.localpart = name;
  user.display_name = "User " + name;
  return user;
}

// Three accounts, a community space with its general room, a council and a
// coordination DM with a once-message: every kind of operation a new
// instance needs.
model::MatrixState riverside() {
  model::Topology topology;
  topology.users = {make_user("alice"), make_user("bob"), make_user("carol")};
  model::Community community;
  community.name = "riverside";
  community.display_name = "Riverside Commons";
  for (const char* name : {"alice", "bob", "carol"}) {
    model::CommunityMember member;
    member.user = name;
    member.trust = 10;
    community.members.push_back(member);
  }
  topology.communities = {community};
  model::Council council;
  council.name = "disputes";
  council.community = "riverside";
  council.display_name = "Dispute Resolution Council";
  model::CouncilMember seat;
  seat.user = "alice";
  council.members = {seat};
  topology.councils = {council};
  model::CoordinationRoom dm;
  dm.name = "request-8841";
  dm.between = {"alice", "bob"};
  dm.request = "https://example.org/requests/8841";
  dm.message = "Alice asked to borrow Bob's ladder.";
  topology.coordination_rooms = {dm};
  return model::compile(topology, example_settings());
}

std::unique_ptr<adapters::StateStore> memory_store() {
  auto store = adapters::open_sqlite_store(":memory:");
  REQUIRE(store);
  return std::move(*store);
}

controller::ReconcileOptions options(Mode mode) {
  return controller::reconcile_options(example_settings(), mode);
}

// Room key → room id of every room on the server.
std::map<std::string, std::string> room_ids(const fakes::FakeHomeserver& server) {
  std::map<std::string, std::string> ids;
  for (const auto& [key, room] : server.state().rooms) {
    ids[key] = room.room_id;
  }
  return ids;
}

std::size_t count_calls(const std::vector<std::string>& calls, const std::string& call) {
  return static_cast<std::size_t>(std::count(calls.begin(), calls.end(), call));
}

// The homeserver as a pass sees it when the connection drops: the first
// `allowed` writes go through, every later one fails for good.
class DropsAfter final : public adapters::HomeserverPort {
 public:
  DropsAfter(adapters::HomeserverPort& inner, int allowed) : m_inner(inner), m_left(allowed) {}

  model::Result<adapters::Observation> observe(const model::MatrixState& desired,
                                               const adapters::ObserveHints& hints) override {
    return m_inner.observe(desired, hints);
  }
  model::Result<adapters::OperationOutcome> execute(const model::Operation& operation,
                                                    const adapters::ExecutionContext& context) override {
    if (m_left-- <= 0) {
      return model::fail(model::Error::Kind::forbidden, "connection lost");
    }
    return m_inner.execute(operation, context);
  }

 private:
  adapters::HomeserverPort& m_inner;
  std::atomic<int> m_left;
};

// A lock whose lease another process took over while the pass ran.
class LostLock final : public adapters::StoreLock {
 public:
  bool lost() const override { return true; }
};

}  // namespace

TEST_CASE("reconciler: plan, apply, and a converged pass plans and writes nothing", "[reconciler]") {
  fakes::FakeHomeserver server("example.org");
  auto store = memory_store();
  controller::FixedClock clock(k_now);
  const model::MatrixState desired = riverside();

  controller::Reconciler apply(server, *store, clock, options(Mode::apply));
  auto planned = apply.plan(model::MatrixState(desired));
  REQUIRE(planned);
  CHECK(planned->now == k_now);
  CHECK(planned->guard.refusal == Refusal::none);
  REQUIRE_FALSE(planned->planned.plan.empty());
  // Planning reads the homeserver and writes nothing to it.
  CHECK(server.calls().empty());

  controller::ApplyOutcome applied = apply.apply(*planned);
  REQUIRE(applied.report);
  CHECK(applied.ok());
  CHECK(applied.report->succeeded == static_cast<int>(planned->planned.plan.operations.size()));
  CHECK_FALSE(applied.lock_lost);
  CHECK(room_ids(server).size() == desired.rooms.size());
  CHECK(server.state().accounts.size() == desired.accounts.size());
  // The store learnt every room id as the rooms were created.
  CHECK(*store->room_ids() == room_ids(server));
  auto runs = store->runs(10);
  REQUIRE(runs);
  REQUIRE(runs->size() == 1);
  CHECK(runs->front().command == "apply");
  CHECK(runs->front().outcome == "succeeded");

  const std::vector<std::string> calls_after_apply = server.calls();
  controller::Reconciler again(server, *store, clock, options(Mode::reconcile));
  controller::PassOutcome converged = again.run(riverside());
  REQUIRE(converged.planned);
  CHECK(converged.planned->planned.plan.empty());
  REQUIRE(converged.applied);
  REQUIRE(converged.applied->report);
  CHECK(converged.applied->report->operations.empty());
  CHECK(converged.ok());
  CHECK(server.calls() == calls_after_apply);
}

TEST_CASE("reconciler: a plan-mode pass executes nothing and keeps only the observation cache", "[reconciler]") {
  fakes::FakeHomeserver server("example.org");
  controller::FixedClock clock(k_now);
  const model::MatrixState desired = riverside();
  auto store = memory_store();

  SECTION("a server with nothing yet") {
    controller::Reconciler reconciler(server, *store, clock, options(Mode::plan));
    controller::PassOutcome outcome = reconciler.run(model::MatrixState(desired));
    REQUIRE(outcome.planned);
    CHECK_FALSE(outcome.planned->planned.plan.empty());
    CHECK_FALSE(outcome.applied);
    CHECK(outcome.ok());
    CHECK(reconciler.apply(*outcome.planned).error);
    CHECK(server.calls().empty());
    CHECK(store->runs(10)->empty());
  }

  SECTION("a converged server, planned from a new store") {
    auto applying_store = memory_store();
    REQUIRE(controller::Reconciler(server, *applying_store, clock, options(Mode::apply))
                .run(model::MatrixState(desired))
                .ok());
    controller::Reconciler reconciler(server, *store, clock, options(Mode::plan));
    controller::PassOutcome outcome = reconciler.run(model::MatrixState(desired));
    REQUIRE(outcome.planned);
    CHECK(outcome.planned->planned.cache_note.empty());
    // The room ids found are cache; the accounts found are not, and only a
    // pass that holds the lock may record them.
    CHECK(*store->room_ids() == room_ids(server));
    CHECK(store->managed_accounts()->empty());
    CHECK(*applying_store->managed_accounts() == std::map<std::string, std::string>{
              {"alice", "@alice:example.org"}, {"bob", "@bob:example.org"}, {"carol", "@carol:example.org"}});
  }
}

TEST_CASE("reconciler: a dry run walks the plan and changes nothing on the homeserver", "[reconciler]") {
  fakes::FakeHomeserver server("example.org");
  auto store = memory_store();
  controller::FixedClock clock(k_now);
  controller::ReconcileOptions dry = options(Mode::apply);
  dry.dry_run = true;
  controller::Reconciler reconciler(server, *store, clock, dry);

  controller::PassOutcome outcome = reconciler.run(riverside());
  REQUIRE(outcome.applied);
  REQUIRE(outcome.applied->report);
  const controller::ApplyReport& report = *outcome.applied->report;
  CHECK(report.would_run == static_cast<int>(report.operations.size()));
  CHECK(report.would_run > 0);
  CHECK(server.calls().empty());
  CHECK(server.state().rooms.empty());
  CHECK(store->room_ids()->empty());
}

TEST_CASE("reconciler: a failed operation skips its dependants and the rest still runs", "[reconciler]") {
  fakes::FakeHomeserver server("example.org");
  auto store = memory_store();
  controller::FixedClock clock(k_now);
  const model::MatrixState desired = riverside();
  REQUIRE(desired.rooms.count("community/riverside"));
  // Forbidden is terminal: one attempt, no retry.
  server.fail_next("create room community/riverside",
                   model::make_error(model::Error::Kind::forbidden, "fake M_FORBIDDEN: no"));

  controller::Reconciler reconciler(server, *store, clock, options(Mode::reconcile));
  controller::PassOutcome outcome = reconciler.run(model::MatrixState(desired));
  REQUIRE(outcome.applied);
  REQUIRE(outcome.applied->report);
  const controller::ApplyReport& report = *outcome.applied->report;
  CHECK_FALSE(outcome.ok());
  CHECK(report.failed == 1);
  CHECK(report.skipped > 0);
  for (const controller::OperationReport& op : report.operations) {
    if (op.status == Status::failed) {
      CHECK(op.description == "create room community/riverside");
    }
    if (op.status == Status::skipped) {
      CHECK(op.attempts == 0);
    }
  }
  // Nothing inside the space was made; what does not depend on it was.
  std::map<std::string, std::string> made = room_ids(server);
  for (const auto& [key, room] : desired.rooms) {
    if (room.parent && room.parent->key == "community/riverside") {
      CHECK_FALSE(made.count(key));
    }
  }
  CHECK_FALSE(made.count("community/riverside"));
  CHECK(made.count("dm/request-8841"));
  CHECK(server.state().accounts.size() == desired.accounts.size());
  CHECK(store->runs(10)->front().outcome == "failed");

  // The failure was one-off: the next pass makes the rest.
  controller::PassOutcome next = reconciler.run(model::MatrixState(desired));
  CHECK(next.ok());
  CHECK(room_ids(server).size() == desired.rooms.size());
}

TEST_CASE("reconciler: the mass-change guard stops a pass before any write", "[reconciler][guard]") {
  fakes::FakeHomeserver server("example.org");
  auto store = memory_store();
  controller::FixedClock clock(k_now);
  const model::MatrixState desired = riverside();
  REQUIRE(controller::Reconciler(server, *store, clock, options(Mode::apply)).run(model::MatrixState(desired)).ok());
  const std::vector<std::string> calls = server.calls();
  const std::size_t runs = store->runs(10)->size();
  const std::size_t audit = store->audit({})->size();

  // Every room gone from the desired state would archive them all.
  model::MatrixState rooms_gone = desired;
  rooms_gone.rooms.clear();

  SECTION("refused") {
    controller::Reconciler reconciler(server, *store, clock, options(Mode::reconcile));
    controller::PassOutcome outcome = reconciler.run(model::MatrixState(rooms_gone));
    REQUIRE(outcome.planned);
    CHECK(outcome.planned->planned.plan.count(model::ResourceChange::Action::archive) == desired.rooms.size());
    const controller::GuardVerdict& guard = outcome.planned->guard;
    REQUIRE(guard.mass_change);
    CHECK(guard.mass_change->find("this pass would archive " + std::to_string(desired.rooms.size())) == 0);
    CHECK_FALSE(guard.mass_change_allowed);
    CHECK(guard.refusal == Refusal::mass_change);
    REQUIRE(outcome.applied);
    CHECK(outcome.applied->refused == Refusal::mass_change);
    CHECK_FALSE(outcome.applied->report);
    CHECK_FALSE(outcome.ok());
    CHECK(server.calls() == calls);
    CHECK(store->runs(10)->size() == runs);
    CHECK(store->audit({})->size() == audit);
    CHECK(store->archive_records()->empty());
  }

  SECTION("held back by a controller, which repairs the rest") {
    model::MatrixState renamed = rooms_gone;
    renamed.accounts.begin()->second.display_name = "Renamed";
    controller::ReconcileOptions holding = options(Mode::reconcile);
    holding.hold_back_destructive = true;
    controller::Reconciler reconciler(server, *store, clock, holding);
    controller::PassOutcome outcome = reconciler.run(std::move(renamed));
    REQUIRE(outcome.planned);
    const controller::GuardVerdict& guard = outcome.planned->guard;
    CHECK(guard.mass_change);
    CHECK(guard.refusal == Refusal::none);
    CHECK(guard.held_back == desired.rooms.size());
    CHECK(outcome.planned->planned.plan.count(model::ResourceChange::Action::archive) == 0);
    CHECK(outcome.ok());
    const std::vector<std::string> after = server.calls();
    REQUIRE(after.size() == calls.size() + 1);
    CHECK(after.back().find("update account") == 0);
    CHECK(store->archive_records()->empty());
  }

  SECTION("let through, archiving at the pass's instant") {
    controller::ReconcileOptions allowed = options(Mode::reconcile);
    allowed.allow_mass_change = true;
    controller::Reconciler reconciler(server, *store, clock, allowed);
    controller::PassOutcome outcome = reconciler.run(model::MatrixState(rooms_gone));
    REQUIRE(outcome.planned);
    CHECK(outcome.planned->guard.mass_change_allowed);
    CHECK(outcome.planned->guard.refusal == Refusal::none);
    CHECK(outcome.ok());
    CHECK(server.calls().size() > calls.size());
    auto archived = store->archive_records();
    REQUIRE(archived);
    CHECK(archived->size() == desired.rooms.size());
    for (const auto& [key, at] : *archived) {
      CHECK(at == k_now);
    }
  }
}

TEST_CASE("reconciler: error changes stop apply whole, reconcile carries out the rest", "[reconciler][guard]") {
  fakes::FakeHomeserver server("example.org");
  auto store = memory_store();
  controller::FixedClock clock(k_now);
  // Someone else's room holds the DM's alias.
  model::ObservedState clash;
  clash.alias_clashes["dm/request-8841"] = "!squatter:example.org";
  server.set_state(clash);

  SECTION("apply") {
    controller::Reconciler reconciler(server, *store, clock, options(Mode::apply));
    controller::PassOutcome outcome = reconciler.run(riverside());
    REQUIRE(outcome.planned);
    CHECK(outcome.planned->guard.plan_errors == 1);
    CHECK(outcome.planned->guard.refusal == Refusal::plan_errors);
    REQUIRE(outcome.applied);
    CHECK(outcome.applied->refused == Refusal::plan_errors);
    CHECK_FALSE(outcome.ok());
    CHECK(server.calls().empty());
    CHECK(store->runs(10)->empty());
  }

  SECTION("reconcile") {
    controller::Reconciler reconciler(server, *store, clock, options(Mode::reconcile));
    controller::PassOutcome outcome = reconciler.run(riverside());
    REQUIRE(outcome.planned);
    CHECK(outcome.planned->guard.plan_errors == 1);
    CHECK(outcome.planned->guard.refusal == Refusal::none);
    REQUIRE(outcome.applied);
    CHECK(outcome.applied->ok());
    CHECK_FALSE(outcome.ok());
    CHECK(room_ids(server).count("community/riverside"));
    CHECK_FALSE(room_ids(server).count("dm/request-8841"));
  }
}

TEST_CASE("reconciler: a pass cut off half-way is resumed by the next without duplicates", "[reconciler]") {
  fakes::FakeHomeserver server("example.org");
  auto store = memory_store();
  controller::FixedClock clock(k_now);
  const model::MatrixState desired = riverside();
  // One at a time, so where the cut falls does not depend on scheduling:
  // after the accounts and the first rooms.
  controller::ReconcileOptions one_at_a_time = options(Mode::reconcile);
  one_at_a_time.max_in_flight = 1;
  DropsAfter dropping(server, 6);

  controller::PassOutcome cut = controller::Reconciler(dropping, *store, clock, one_at_a_time).run(
      model::MatrixState(desired));
  REQUIRE(cut.applied);
  REQUIRE(cut.applied->report);
  CHECK(cut.applied->report->succeeded == 6);
  CHECK(cut.applied->report->failed > 0);
  const std::map<std::string, std::string> made_first = room_ids(server);
  REQUIRE_FALSE(made_first.empty());
  REQUIRE(made_first.size() < desired.rooms.size());
  const std::size_t calls_first = server.calls().size();

  auto resume_with = [&](adapters::StateStore& next_store) {
    controller::PassOutcome resumed =
        controller::Reconciler(server, next_store, clock, options(Mode::reconcile)).run(model::MatrixState(desired));
    CHECK(resumed.ok());
    const std::vector<std::string> all = server.calls();
    const std::vector<std::string> second(all.begin() + static_cast<std::ptrdiff_t>(calls_first), all.end());
    // The rooms made before the cut were found, not made again.
    for (const auto& [key, id] : made_first) {
      CHECK(count_calls(second, "create room " + key) == 0);
      CHECK(room_ids(server).at(key) == id);
    }
    CHECK(room_ids(server).size() == desired.rooms.size());
    CHECK(*next_store.room_ids() == room_ids(server));
    // Converged: one more pass plans nothing.
    auto replanned =
        controller::Reconciler(server, next_store, clock, options(Mode::plan)).plan(model::MatrixState(desired));
    REQUIRE(replanned);
    CHECK(replanned->planned.plan.empty());
  };

  SECTION("with the same store") {
    resume_with(*store);
  }
  SECTION("with the store lost") {
    auto fresh = memory_store();
    resume_with(*fresh);
  }
}

TEST_CASE("reconciler: a lock taken over while the pass ran is reported", "[reconciler]") {
  fakes::FakeHomeserver server("example.org");
  auto store = memory_store();
  controller::FixedClock clock(k_now);
  LostLock lock;
  controller::Reconciler reconciler(server, *store, clock, options(Mode::reconcile), &lock);
  controller::PassOutcome outcome = reconciler.run(riverside());
  REQUIRE(outcome.applied);
  CHECK(outcome.applied->lock_lost);
}

}  // namespace reconciler_test
