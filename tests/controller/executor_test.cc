// Applying plans against the in-memory homeserver: convergence end to end,
// dependency order under concurrency, failure isolation, retries, the
// concurrency bound, the journal, room ids reaching dependants, dry runs,
// and the fence a replica's pass lock puts before every operation.

#include "controller/apply_plan.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "model/compile.h"
#include "model/diff.h"
#include "model/plan.h"
#include "model/settings.h"
#include "model/topology.h"
#include "tests/fakes/fake_homeserver.h"
#include "tests/fakes/fake_state_store.h"

namespace executor_test {

namespace {

using std::chrono::milliseconds;
using Status = controller::OperationReport::Status;
using Kind = model::Error::Kind;

const std::string k_bot = "@mxctl:example.org";
constexpr std::int64_t k_run = 7;

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

// A community with a general room and a council, and a coordination DM
// with a once-message: every kind of operation the diff makes for a new
// instance (accounts, spaces, child rooms, links, invites, a message).
model::MatrixState riverside() {
  model::Topology topology;
  topology.users = {make_user("alice"), make_user("bob"), make_user("carol")};
  model::Community community;
  community.name = "riverside";
  community.display_name = "Riverside Commons";
  community.topic = "Neighbours sharing tools";
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

model::DiffOptions diff_options() {
  model::DiffOptions options;
  options.bot_user_id = k_bot;
  return options;
}

// What the next pass would plan: the fake's state plus the store's memory.
model::Plan replan(const model::MatrixState& desired, fakes::FakeHomeserver& server, fakes::FakeStateStore& store) {
  auto observation = server.observe(desired, {});
  REQUIRE(observation);
  observation->state.messages_sent = *store.messages_sent();
  observation->state.directs_set = *store.directs_set();
  return model::diff(desired, observation->state, diff_options());
}

// Options that never sleep for real and record what they would have slept.
struct RecordingSleeper {
  std::mutex mutex;
  std::vector<long long> waits;
  controller::Sleeper sleeper() {
    return [this](milliseconds delay) {
      std::lock_guard<std::mutex> lock(mutex);
      waits.push_back(delay.count());
    };
  }
};

// Desired accounts a..z and a plan of create_account operations over the
// given letters with the given dependencies, for tests about scheduling.
struct AccountPlan {
  model::MatrixState desired;
  model::Plan plan;
};

AccountPlan account_plan(const std::vector<std::pair<std::string, std::vector<std::size_t>>>& ops) {
  AccountPlan result;
  for (const auto& [key, deps] : ops) {
    model::Account account;
    account.key = key;
    account.localpart = key;
    account.user_id = "@" + key + ":example.org";
    result.desired.accounts[key] = account;
    model::Operation op;
    op.kind = model::Operation::Kind::create_account;
    op.account_key = key;
    op.depends_on = deps;
    result.plan.operations.push_back(op);
    result.plan.changes.push_back({"account." + key, model::ResourceChange::Action::create, {}, "",
                                   {result.plan.operations.size() - 1}});
  }
  return result;
}

std::vector<Status> statuses(const controller::ApplyReport& report) {
  std::vector<Status> out;
  for (const controller::OperationReport& op : report.operations) {
    out.push_back(op.status);
  }
  return out;
}

model::Error error_of(Kind kind, const std::string& message, std::optional<milliseconds> retry_after = {},
                      std::string errcode = {}) {
  return model::Error{kind, message, retry_after, std::move(errcode)};
}

}  // namespace

TEST_CASE("executor: applying a plan converges the homeserver and the next plan is empty", "[executor]") {
  const model::MatrixState desired = riverside();
  fakes::FakeHomeserver server;
  fakes::FakeStateStore store;
  const model::Plan plan = replan(desired, server, store);
  REQUIRE(plan.operations.size() > 10);
  REQUIRE(plan.error_count() == 0);

  controller::ExecutorOptions options;
  options.max_in_flight = 4;
  controller::ApplyReport report = controller::apply_plan(plan, desired, server, store, k_run, options, {});

  CHECK(report.ok());
  CHECK(report.succeeded == static_cast<int>(plan.operations.size()));
  CHECK(report.added == static_cast<int>(plan.count(model::ResourceChange::Action::create)));
  CHECK(report.incomplete == 0);
  CHECK(report.warnings.empty());
  CHECK(controller::apply_summary(report, false) ==
        "Apply complete! Resources: " + std::to_string(report.added) + " added, 0 changed, 0 destroyed.");
  CHECK(replan(desired, server, store).empty());

  // The store learned every room id and the sent message along the way.
  auto observation = server.observe(desired, {});
  REQUIRE(observation);
  CHECK(*store.room_ids() == observation->room_ids);
  CHECK(*store.messages_sent() == std::set<std::string>{"dm/request-8841"});
  CHECK(server.messages().at("dm/request-8841").size() == 1);

  SECTION("a converged pass makes no calls") {
    const std::size_t calls = server.calls().size();
    controller::ApplyReport again = controller::apply_plan(replan(desired, server, store), desired, server, store,
                                                           k_run + 1, options, *store.room_ids());
    CHECK(again.operations.empty());
    CHECK(server.calls().size() == calls);
    CHECK(controller::apply_summary(again, false) == "Apply complete! Resources: 0 added, 0 changed, 0 destroyed.");
  }
}

TEST_CASE("executor: every operation starts after its dependencies ended, under concurrency", "[executor]") {
  const model::MatrixState desired = riverside();
  fakes::FakeHomeserver server;
  server.set_latency(milliseconds(3));
  fakes::FakeStateStore store;
  const model::Plan plan = replan(desired, server, store);
  controller::ExecutorOptions options;
  options.max_in_flight = 4;

  controller::ApplyReport report = controller::apply_plan(plan, desired, server, store, k_run, options, {});
  REQUIRE(report.ok());

  const std::vector<std::string> timeline = server.timeline();
  auto position = [&](const std::string& entry) {
    auto it = std::find(timeline.begin(), timeline.end(), entry);
    REQUIRE(it != timeline.end());
    return it - timeline.begin();
  };
  std::size_t checked = 0;
  for (const model::Operation& op : plan.operations) {
    for (std::size_t dep : op.depends_on) {
      CAPTURE(model::describe(op), model::describe(plan.operations[dep]));
      CHECK(position("begin " + model::describe(op)) > position("end " + model::describe(plan.operations[dep])));
      ++checked;
    }
  }
  CHECK(checked > 5);
  CHECK(server.peak_in_flight() <= 4);
}

TEST_CASE("executor: a failed operation skips its dependents transitively, the rest still runs", "[executor]") {
  // a ← b ← c, d independent, e needs a and d.
  AccountPlan setup = account_plan({{"a", {}}, {"b", {0}}, {"c", {1}}, {"d", {}}, {"e", {3, 0}}});
  fakes::FakeHomeserver server;
  server.fail_next("create account a", error_of(Kind::forbidden, "fake M_FORBIDDEN: not an admin", {}, "M_FORBIDDEN"));
  fakes::FakeStateStore store;
  controller::ExecutorOptions options;
  options.max_in_flight = 1;  // one at a time, so the call journal is exact
  std::vector<std::string> progress;
  controller::ApplyReport report =
      controller::apply_plan(setup.plan, setup.desired, server, store, k_run, options, {},
                             [&](const controller::OperationReport& op) {
                               progress.push_back(op.description + ": " + controller::to_string(op.status));
                             });

  CHECK(server.calls() == std::vector<std::string>{"create account a", "create account d"});
  CHECK(statuses(report) ==
        std::vector<Status>{Status::failed, Status::skipped, Status::skipped, Status::succeeded, Status::skipped});
  CHECK(report.operations[0].attempts == 1);
  CHECK(report.operations[0].error == "forbidden: fake M_FORBIDDEN: not an admin");
  CHECK(report.operations[2].error == "skipped: depends on \"create account a\", which failed");
  CHECK(report.operations[2].attempts == 0);
  CHECK(report.succeeded == 1);
  CHECK(report.failed == 1);
  CHECK(report.skipped == 3);
  CHECK(report.retried == 0);
  CHECK(report.added == 1);
  CHECK(report.incomplete == 4);
  CHECK_FALSE(report.ok());
  CHECK(controller::apply_summary(report, false) ==
        "Apply failed: 1 operation failed, 3 skipped. Resources: 1 added, 0 changed, 0 destroyed.");
  CHECK(progress.size() == 5);
  CHECK(progress.front() == "create account a: failed");
  CHECK(server.state().accounts.count("d") == 1);
  CHECK(server.state().accounts.count("b") == 0);

  auto journal = store.journal(k_run);
  REQUIRE(journal);
  REQUIRE(journal->size() == 5);
  CHECK((*journal)[0].operation == "create account a");
  CHECK((*journal)[0].result == "failed");
  CHECK((*journal)[0].errcode == "M_FORBIDDEN");
  for (const adapters::JournalEntry& entry : *journal) {
    if (entry.result == "skipped") {
      CHECK(entry.attempt == 0);
      CHECK(entry.message == "skipped: depends on \"create account a\", which failed");
    }
  }
}

TEST_CASE("executor: retryable failures are retried with the injected sleeper", "[executor]") {
  AccountPlan setup = account_plan({{"a", {}}, {"b", {0}}});
  fakes::FakeHomeserver server;
  fakes::FakeStateStore store;
  RecordingSleeper sleeper;
  controller::ExecutorOptions options;
  options.sleep = sleeper.sleeper();
  options.jitter_seed = 42;

  SECTION("rate_limited waits at least what the server asked, plus jitter") {
    server.fail_next("create account a",
                     error_of(Kind::rate_limited, "fake M_LIMIT_EXCEEDED: too many requests", milliseconds(1500),
                              "M_LIMIT_EXCEEDED"), 2);
    controller::ApplyReport report =
        controller::apply_plan(setup.plan, setup.desired, server, store, k_run, options, {});
    CHECK(report.ok());
    CHECK(report.operations[0].attempts == 3);
    CHECK(report.operations[1].attempts == 1);
    CHECK(report.retried == 1);
    CHECK(report.repeated_attempts == 2);
    REQUIRE(sleeper.waits.size() == 2);
    for (long long wait : sleeper.waits) {
      CHECK(wait >= 1500);
      CHECK(wait <= 2250);
    }
    CHECK(server.calls() == std::vector<std::string>{"create account a", "create account a", "create account a",
                                                     "create account b"});
  }
  SECTION("transient failures back off with jitter from the seed") {
    server.fail_next("create account a", error_of(Kind::transient, "fake M_UNKNOWN: bad gateway", {}, "M_UNKNOWN"), 3);
    controller::ApplyReport report =
        controller::apply_plan(setup.plan, setup.desired, server, store, k_run, options, {});
    CHECK(report.ok());
    CHECK(report.operations[0].attempts == 4);
    // Operation 0 draws from JitterEngine(seed + 0).
    controller::JitterEngine rng(42);
    controller::RetryState state;
    std::vector<long long> expected;
    for (int failed = 1; failed <= 3; ++failed) {
      expected.push_back(controller::retry_delay(options.retry, error_of(Kind::transient, ""), state, rng)->count());
    }
    CHECK(sleeper.waits == expected);
  }
  SECTION("retries end after max_attempts and the operation fails") {
    options.retry.max_attempts = 3;
    server.fail_next("create account a", error_of(Kind::transient, "fake M_UNKNOWN: bad gateway", {}, "M_UNKNOWN"), 10);
    controller::ApplyReport report =
        controller::apply_plan(setup.plan, setup.desired, server, store, k_run, options, {});
    CHECK(statuses(report) == std::vector<Status>{Status::failed, Status::skipped});
    CHECK(report.operations[0].attempts == 3);
    CHECK(report.operations[0].error == "transient: fake M_UNKNOWN: bad gateway");
    CHECK(report.retried == 1);
    CHECK(report.repeated_attempts == 2);
    CHECK(sleeper.waits.size() == 2);
  }
  SECTION("forbidden, invalid and conflict are not retried") {
    for (Kind kind : {Kind::forbidden, Kind::invalid, Kind::conflict}) {
      CAPTURE(model::to_string(kind));
      fakes::FakeHomeserver fresh;
      fresh.fail_next("create account a", error_of(kind, "fake M_X: no", {}, "M_X"), 5);
      controller::ApplyReport report =
          controller::apply_plan(setup.plan, setup.desired, fresh, store, k_run, options, {});
      CHECK(report.operations[0].status == Status::failed);
      CHECK(report.operations[0].attempts == 1);
      CHECK(fresh.calls() == std::vector<std::string>{"create account a"});
    }
    CHECK(sleeper.waits.empty());
  }
}

TEST_CASE("executor: the journal records every attempt", "[executor]") {
  AccountPlan setup = account_plan({{"a", {}}});
  fakes::FakeHomeserver server;
  server.fail_next("create account a", error_of(Kind::transient, "fake M_UNKNOWN: try later", {}, "M_UNKNOWN"), 1);
  fakes::FakeStateStore store;
  RecordingSleeper sleeper;
  controller::ExecutorOptions options;
  options.sleep = sleeper.sleeper();
  controller::apply_plan(setup.plan, setup.desired, server, store, k_run, options, {});
  controller::apply_plan(setup.plan, setup.desired, server, store, k_run + 1, options, {});

  auto first = store.journal(k_run);
  REQUIRE(first);
  REQUIRE(first->size() == 2);
  CHECK((*first)[0].operation == "create account a");
  CHECK((*first)[0].result == "failed");
  CHECK((*first)[0].attempt == 1);
  CHECK((*first)[0].errcode == "M_UNKNOWN");
  CHECK((*first)[0].message == "fake M_UNKNOWN: try later");
  CHECK((*first)[1].result == "ok");
  CHECK((*first)[1].attempt == 2);
  CHECK((*first)[1].errcode.empty());
  // The second run found the account there: the port said already done.
  auto second = store.journal(k_run + 1);
  REQUIRE(second);
  REQUIRE(second->size() == 1);
  CHECK((*second)[0].result == "already_done");
}

TEST_CASE("executor: a failed attempt's journal entry carries the error's errcode, not one read from its message",
          "[executor]") {
  AccountPlan setup = account_plan({{"a", {}}, {"b", {}}});
  fakes::FakeHomeserver server;
  server.fail_next("create account a", error_of(Kind::forbidden, "PUT /x: refused", {}, "M_FORBIDDEN"));
  server.fail_next("create account b", error_of(Kind::invalid, "fake M_LOOKS_LIKE_ONE: but has none"));
  fakes::FakeStateStore store;
  controller::ExecutorOptions options;
  options.max_in_flight = 1;
  controller::apply_plan(setup.plan, setup.desired, server, store, k_run, options, {});

  auto journal = store.journal(k_run);
  REQUIRE(journal);
  REQUIRE(journal->size() == 2);
  CHECK((*journal)[0].operation == "create account a");
  CHECK((*journal)[0].errcode == "M_FORBIDDEN");
  CHECK((*journal)[0].message == "PUT /x: refused");
  CHECK((*journal)[1].operation == "create account b");
  CHECK((*journal)[1].errcode.empty());
  CHECK((*journal)[1].message == "fake M_LOOKS_LIKE_ONE: but has none");
}

TEST_CASE("executor: at most max_in_flight operations run at once", "[executor]") {
  std::vector<std::pair<std::string, std::vector<std::size_t>>> ops;
  for (char c = 'a'; c <= 'l'; ++c) {
    ops.push_back({std::string(1, c), {}});
  }
  AccountPlan setup = account_plan(ops);
  fakes::FakeHomeserver server;
  server.set_latency(milliseconds(15));
  fakes::FakeStateStore store;
  controller::ExecutorOptions options;

  SECTION("three") {
    options.max_in_flight = 3;
    controller::ApplyReport report =
        controller::apply_plan(setup.plan, setup.desired, server, store, k_run, options, {});
    CHECK(report.succeeded == 12);
    CHECK(server.peak_in_flight() <= 3);
    CHECK(server.peak_in_flight() >= 2);  // twelve 15 ms calls on three workers do overlap
  }
  SECTION("one runs them in plan order") {
    options.max_in_flight = 1;
    controller::apply_plan(setup.plan, setup.desired, server, store, k_run, options, {});
    CHECK(server.peak_in_flight() == 1);
    std::vector<std::string> expected;
    for (const model::Operation& op : setup.plan.operations) {
      expected.push_back(model::describe(op));
    }
    CHECK(server.calls() == expected);
  }
}

// The fake homeserver, noting which threads called it.
class ThreadCountingHomeserver : public adapters::HomeserverPort {
 public:
  explicit ThreadCountingHomeserver(fakes::FakeHomeserver& server) : m_server(server) {}
  model::Result<adapters::Observation> observe(const model::MatrixState& desired,
                                               const adapters::ObserveHints& hints) override {
    return m_server.observe(desired, hints);
  }
  model::Result<adapters::OperationOutcome> execute(const model::Operation& operation,
                                                    const adapters::ExecutionContext& context) override {
    {
      std::lock_guard<std::mutex> lock(m_threads_mutex);
      m_threads.insert(std::this_thread::get_id());
    }
    return m_server.execute(operation, context);
  }
  std::size_t threads() const {
    std::lock_guard<std::mutex> lock(m_threads_mutex);
    return m_threads.size();
  }

 private:
  fakes::FakeHomeserver& m_server;
  mutable std::mutex m_threads_mutex;
  std::set<std::thread::id> m_threads;
};

TEST_CASE("executor: workers start as the window opens, none to wait beyond it", "[executor][window]") {
  std::vector<std::pair<std::string, std::vector<std::size_t>>> ops;
  for (int i = 0; i < 40; ++i) {
    ops.push_back({"u" + std::to_string(i), {}});
  }
  AccountPlan setup = account_plan(ops);
  fakes::FakeHomeserver fake;
  fake.set_latency(milliseconds(2));
  // Every first attempt is refused for the rate: the window stays at one
  // and then opens by one per window's worth of answers, far below 32.
  fake.fail_next("create account", error_of(Kind::rate_limited, "slow down", milliseconds(1)), 40);
  fakes::FakeStateStore store;
  RecordingSleeper sleeper;
  ThreadCountingHomeserver server(fake);
  controller::ExecutorOptions options;
  options.max_in_flight = 32;
  options.start_in_flight = 1;
  options.sleep = sleeper.sleeper();
  controller::ApplyReport report = controller::apply_plan(setup.plan, setup.desired, server, store, k_run, options, {});
  CHECK(report.succeeded == 40);
  REQUIRE(report.widest_window < 32);
  CHECK(server.threads() <= static_cast<std::size_t>(report.widest_window));
}

TEST_CASE("executor: among ready operations the lowest plan index goes first", "[executor]") {
  // a waits for c; b and c are ready at once.
  AccountPlan setup = account_plan({{"a", {2}}, {"b", {}}, {"c", {}}, {"d", {0}}});
  fakes::FakeHomeserver server;
  fakes::FakeStateStore store;
  controller::ExecutorOptions options;
  options.max_in_flight = 1;
  controller::apply_plan(setup.plan, setup.desired, server, store, k_run, options, {});
  CHECK(server.calls() ==
        std::vector<std::string>{"create account b", "create account c", "create account a", "create account d"});
}

TEST_CASE("executor: room ids from create_room reach dependants and the store", "[executor]") {
  model::MatrixState desired;
  model::Room space;
  space.key = "community/river";
  space.kind = model::RoomKind::space;
  space.name = "River";
  model::Room room;
  room.key = "community/river/general";
  room.name = "River General";
  room.parent = model::SpaceLink{"community/river", {"example.org"}, true};
  room.once_message = model::OnceMessage{"txn-1", "hello"};
  desired.rooms = {{space.key, space}, {room.key, room}};

  model::Plan plan;
  model::Operation create;
  create.kind = model::Operation::Kind::create_room;
  create.room_key = room.key;
  model::Operation invite;
  invite.kind = model::Operation::Kind::invite;
  invite.room_key = room.key;
  invite.user_id = "@zed:elsewhere.org";
  invite.depends_on = {0};
  model::Operation message;
  message.kind = model::Operation::Kind::send_message;
  message.room_key = room.key;
  message.depends_on = {0};
  plan.operations = {create, invite, message};

  // The parent space already exists; its id comes from the store.
  fakes::FakeHomeserver server("example.org");
  model::ObservedState existing;
  existing.rooms[space.key] = model::ObservedRoom{"!space:example.org", space.key, space, {}};
  server.set_state(existing);
  fakes::FakeStateStore store;
  controller::ExecutorOptions options;
  controller::ApplyReport report =
      controller::apply_plan(plan, desired, server, store, k_run, options, {{space.key, "!space:example.org"}});

  REQUIRE(report.ok());
  const std::map<std::string, std::string> seen = server.contexts().at("invite @zed:elsewhere.org to " + room.key);
  CHECK(seen == std::map<std::string, std::string>{{space.key, "!space:example.org"}, {room.key, "!1:example.org"}});
  CHECK(store.room_ids()->at(room.key) == "!1:example.org");
  CHECK(*store.messages_sent() == std::set<std::string>{room.key});
  CHECK(server.state().rooms.at(room.key).members.count("@zed:elsewhere.org") == 1);

  SECTION("without the parent's id the creation fails and its dependants are skipped") {
    fakes::FakeHomeserver bare("example.org");
    fakes::FakeStateStore empty;
    controller::ApplyReport failed = controller::apply_plan(plan, desired, bare, empty, k_run, options, {});
    CHECK(statuses(failed) == std::vector<Status>{Status::failed, Status::skipped, Status::skipped});
    CHECK(empty.room_ids()->empty());
  }
}

TEST_CASE("executor: a dry run executes nothing and reports what would run", "[executor]") {
  const model::MatrixState desired = riverside();
  fakes::FakeHomeserver server;
  fakes::FakeStateStore store;
  const model::Plan plan = replan(desired, server, store);
  controller::ExecutorOptions options;
  std::size_t progress = 0;
  controller::ApplyReport report = controller::dry_run_plan(plan, desired, options, {},
                                                            [&](const controller::OperationReport&) { ++progress; });

  CHECK(server.calls().empty());
  CHECK(server.state().rooms.empty());
  CHECK(store.all_entries().empty());
  CHECK(store.room_ids()->empty());
  CHECK(store.messages_sent()->empty());
  CHECK(report.would_run == static_cast<int>(plan.operations.size()));
  CHECK(progress == plan.operations.size());
  CHECK(std::all_of(report.operations.begin(), report.operations.end(),
                    [](const controller::OperationReport& op) { return op.attempts == 0; }));
  const std::string creations = std::to_string(plan.count(model::ResourceChange::Action::create));
  CHECK(controller::apply_summary(report, true) ==
        "Dry run: nothing was applied. Resources: " + creations + " to add, 0 to change, 0 to destroy.");
}

TEST_CASE("executor: a malformed plan fails or skips instead of hanging", "[executor]") {
  // a names a missing operation, b needs a, c and d wait on each other, e is fine.
  AccountPlan setup = account_plan({{"a", {9}}, {"b", {0}}, {"c", {3}}, {"d", {2}}, {"e", {}}});
  fakes::FakeHomeserver server;
  fakes::FakeStateStore store;
  controller::ApplyReport report =
      controller::apply_plan(setup.plan, setup.desired, server, store, k_run, controller::ExecutorOptions{}, {});
  CHECK(statuses(report) ==
        std::vector<Status>{Status::failed, Status::skipped, Status::skipped, Status::skipped, Status::succeeded});
  CHECK(report.operations[0].error.rfind("invalid: ", 0) == 0);
  CHECK(report.operations[2].error.find("cycle") != std::string::npos);
  CHECK(server.calls() == std::vector<std::string>{"create account e"});
}

TEST_CASE("executor: store failures become warnings, not failed operations", "[executor]") {
  AccountPlan setup = account_plan({{"a", {}}, {"b", {}}});
  fakes::FakeHomeserver server;
  fakes::FakeStateStore store;
  store.set_writes_fail(true);
  controller::ApplyReport report =
      controller::apply_plan(setup.plan, setup.desired, server, store, k_run, controller::ExecutorOptions{}, {});
  CHECK(report.ok());
  CHECK(report.succeeded == 2);
  // Per operation: its journal entry, the managed-account record, its audit entry.
  REQUIRE(report.warnings.size() == 6);
  for (const std::string& warning : report.warnings) {
    CHECK(warning.find("fake store: disk full") != std::string::npos);
  }
  auto mentions = [&](const std::string& text) {
    return std::count_if(report.warnings.begin(), report.warnings.end(),
                         [&](const std::string& w) { return w.find(text) != std::string::npos; });
  };
  CHECK(mentions("could not journal") == 2);
  CHECK(mentions("in the state store") == 2);
  CHECK(mentions("audit log") == 2);
}

TEST_CASE("executor: an exception from the port fails only that operation", "[executor]") {
  // Wraps the fake and throws on one operation, as a buggy adapter might.
  class ThrowingPort final : public adapters::HomeserverPort {
   public:
    explicit ThrowingPort(fakes::FakeHomeserver& inner) : m_inner(inner) {}
    model::Result<adapters::Observation> observe(const model::MatrixState& desired,
                                                 const adapters::ObserveHints& hints) override {
      return m_inner.observe(desired, hints);
    }
    model::Result<adapters::OperationOutcome> execute(const model::Operation& op,
                                                      const adapters::ExecutionContext& context) override {
      if (op.account_key == "b") {
        throw std::runtime_error("boom");
      }
      return m_inner.execute(op, context);
    }

   private:
    fakes::FakeHomeserver& m_inner;
  };
  AccountPlan setup = account_plan({{"a", {}}, {"b", {}}, {"c", {1}}});
  fakes::FakeHomeserver server;
  ThrowingPort port(server);
  fakes::FakeStateStore store;
  controller::ApplyReport report =
      controller::apply_plan(setup.plan, setup.desired, port, store, k_run, controller::ExecutorOptions{}, {});
  CHECK(statuses(report) == std::vector<Status>{Status::succeeded, Status::failed, Status::skipped});
  CHECK(report.operations[1].error == "invalid: internal error: boom");
}

TEST_CASE("executor: the store groups its writes while an apply runs, never in a dry run", "[executor]") {
  AccountPlan setup = account_plan({{"a", {}}, {"b", {0}}});
  fakes::FakeHomeserver server;
  fakes::FakeStateStore store;
  controller::ExecutorOptions options;

  SECTION("apply: on for the walk, off (and so committed) before it returns") {
    controller::ApplyReport report =
        controller::apply_plan(setup.plan, setup.desired, server, store, k_run, options, {});
    REQUIRE(report.ok());
    CHECK(store.group_changes() == 2);
    CHECK_FALSE(store.group_commit().has_value());
    CHECK(store.journal(k_run)->size() == 2);
  }
  SECTION("dry run: nothing is written, so nothing is grouped") {
    controller::dry_run_plan(setup.plan, setup.desired, options, {});
    CHECK(store.group_changes() == 0);
  }
}

TEST_CASE("executor: with many workers every operation settles once, reported one at a time", "[executor]") {
  // Independent operations and chains mixed, so that workers both find
  // work waiting and wait for it.
  std::vector<std::pair<std::string, std::vector<std::size_t>>> ops;
  for (std::size_t i = 0; i < 120; ++i) {
    std::vector<std::size_t> deps;
    if (i % 3 != 0) {
      deps.push_back(i - 1);
    }
    ops.push_back({"user" + std::to_string(i), deps});
  }
  AccountPlan setup = account_plan(ops);
  fakes::FakeHomeserver server;
  server.set_latency(milliseconds(1));
  fakes::FakeStateStore store;
  controller::ExecutorOptions options;
  options.max_in_flight = 8;
  std::atomic<int> inside{0};
  std::atomic<int> overlapped{0};
  std::vector<std::size_t> seen;
  controller::ApplyReport report = controller::apply_plan(
      setup.plan, setup.desired, server, store, k_run, options, {}, [&](const controller::OperationReport& op) {
        if (inside.fetch_add(1) != 0) {
          ++overlapped;
        }
        seen.push_back(op.index);
        std::this_thread::yield();
        inside.fetch_sub(1);
      });

  CHECK(report.succeeded == 120);
  CHECK(overlapped == 0);
  std::sort(seen.begin(), seen.end());
  CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
  CHECK(seen.size() == 120);
  CHECK(server.peak_in_flight() <= 8);
  CHECK(server.calls().size() == 120);
  CHECK(store.journal(k_run)->size() == 120);
  CHECK(store.audit({})->size() == 120);
}

TEST_CASE("executor: once the fence says no, no operation starts, and those in flight finish", "[executor]") {
  const model::MatrixState desired = riverside();
  fakes::FakeHomeserver server;
  server.set_latency(milliseconds(2));
  fakes::FakeStateStore store;
  const model::Plan plan = replan(desired, server, store);
  REQUIRE(plan.operations.size() > 10);
  controller::ExecutorOptions options;
  options.max_in_flight = 3;
  std::atomic<int> asked{0};
  // The lock is lost after the fifth confirmation: the sixth start is refused.
  options.fence = [&asked] { return ++asked <= 5; };
  controller::ApplyReport report = controller::apply_plan(plan, desired, server, store, k_run, options, {});

  CHECK(report.succeeded + report.already_done + report.failed <= 5);
  CHECK(server.calls().size() <= 5 * 3);  // each started operation, whatever requests it made
  const auto refused = std::count_if(report.operations.begin(), report.operations.end(), [](const auto& op) {
    return op.status == Status::skipped && op.error == "skipped: this process no longer holds the pass lock";
  });
  CHECK(refused >= 1);
  CHECK(report.succeeded + report.already_done + report.failed + report.skipped ==
        static_cast<int>(plan.operations.size()));
  CHECK(std::count(report.warnings.begin(), report.warnings.end(),
                   "stopped writing: this process no longer holds the pass lock") == 1);
  // Asked once per start and never again after a no.
  CHECK(asked.load() == 6);
  CHECK_FALSE(report.ok());

  SECTION("a fence that keeps saying yes changes nothing") {
    fakes::FakeHomeserver other;
    fakes::FakeStateStore other_store;
    const model::Plan full = replan(desired, other, other_store);
    std::atomic<int> confirmations{0};
    options.fence = [&confirmations] {
      ++confirmations;
      return true;
    };
    controller::ApplyReport whole = controller::apply_plan(full, desired, other, other_store, k_run, options, {});
    CHECK(whole.ok());
    CHECK(confirmations.load() == static_cast<int>(full.operations.size()));
  }
}

}  // namespace executor_test
