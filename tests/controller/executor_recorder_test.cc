// The executor's two collaborators besides the scheduler: the recorder it
// tells of every attempt and settlement, and the pair a dry run swaps in (a
// port that only pretends, a recorder that keeps nothing).

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "adapters/homeserver_port.h"
#include "controller/apply_plan.h"
#include "controller/apply_recorder.h"
#include "model/matrix_state.h"
#include "model/plan.h"
#include "tests/fakes/fake_homeserver.h"
#include "tests/fakes/fake_state_store.h"

namespace executor_recorder_test {

namespace {

using Status = controller::OperationReport::Status;
using Kind = model::Error::Kind;

// Desired accounts and a plan creating them, with the given dependencies.
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

// Writes down every call the executor makes, but commit_due (which comes
// with the clock, not with the walk).
class CallLog final : public controller::ApplyRecorder {
 public:
  void begin(const model::Plan& plan) override {
    calls.push_back("begin " + std::to_string(plan.operations.size()) + " operations");
  }
  std::map<std::string, std::string> ids_for(const model::Operation& operation) const override {
    calls.push_back("ids_for " + model::describe(operation));
    return {};
  }
  adapters::JournalEntry journal_entry(const std::string& description, Status status, int attempt, std::string,
                                       std::string) const override {
    adapters::JournalEntry entry;
    entry.operation = description;
    entry.result = controller::to_string(status);
    entry.attempt = attempt;
    return entry;
  }
  void journal(const adapters::JournalEntry& entry) override {
    calls.push_back("journal " + entry.operation + ": " + entry.result + ", attempt " +
                    std::to_string(entry.attempt));
  }
  void remember(const model::Operation& operation, const adapters::OperationOutcome&) override {
    calls.push_back("remember " + model::describe(operation));
  }
  void audit(const model::Operation& operation, Status status, const std::string& message) override {
    calls.push_back("audit " + model::describe(operation) + ": " + controller::to_string(status) +
                    (message.empty() ? "" : " (" + message + ")"));
  }
  void commit_due() override {}
  void finish() override { calls.push_back("finish"); }
  std::vector<std::string> take_warnings() override { return {"the log is only a test"}; }

  mutable std::vector<std::string> calls;
};

}  // namespace

TEST_CASE("executor: the recorder hears of each success, failure, retry and skip, in order", "[executor][recorder]") {
  // b is refused, c waits on b, d times out once.
  AccountPlan setup = account_plan({{"a", {}}, {"b", {}}, {"c", {1}}, {"d", {}}});
  fakes::FakeHomeserver server;
  server.fail_next("create account b", model::Error{Kind::forbidden, "fake M_FORBIDDEN: not an admin", {}, {}});
  server.fail_next("create account d", model::Error{Kind::transient, "fake: timed out", {}, {}});
  controller::ExecutorOptions options;
  options.max_in_flight = 1;  // one at a time, so the order of calls is exact
  options.jitter_seed = 1;
  options.sleep = [](std::chrono::milliseconds) {};
  CallLog recorder;

  controller::ApplyReport report =
      controller::execute_plan(setup.plan, setup.desired, server, recorder, options);

  CHECK(recorder.calls == std::vector<std::string>{
                              "begin 4 operations",
                              "ids_for create account a",
                              "journal create account a: succeeded, attempt 1",
                              "remember create account a",
                              "audit create account a: succeeded",
                              "ids_for create account b",
                              "journal create account b: failed, attempt 1",
                              "audit create account b: failed (forbidden: fake M_FORBIDDEN: not an admin)",
                              "journal create account c: skipped, attempt 0",
                              "audit create account c: skipped (skipped: depends on \"create account b\", which "
                              "failed)",
                              "ids_for create account d",
                              "journal create account d: failed, attempt 1",
                              "journal create account d: succeeded, attempt 2",
                              "remember create account d",
                              "audit create account d: succeeded",
                              "finish",
                          });
  CHECK(report.warnings == std::vector<std::string>{"the log is only a test"});
  CHECK(report.succeeded == 2);
  CHECK(report.failed == 1);
  CHECK(report.skipped == 1);
}

TEST_CASE("executor: a NullRecorder keeps nothing, yet later operations get the ids of rooms created before",
          "[executor][recorder]") {
  model::MatrixState desired;
  model::Room ops;
  ops.key = "ops";
  ops.alias = "#mxctl.ops:example.org";
  ops.name = "Ops";
  desired.rooms["ops"] = ops;
  model::Plan plan;
  model::Operation create;
  create.kind = model::Operation::Kind::create_room;
  create.room_key = "ops";
  plan.operations.push_back(create);
  model::Operation invite;
  invite.kind = model::Operation::Kind::invite;
  invite.room_key = "ops";
  invite.user_id = "@zed:example.org";
  invite.depends_on = {0};
  plan.operations.push_back(invite);
  fakes::FakeHomeserver server("example.org");
  // The store the plan would have come from: a NullRecorder is not given it.
  fakes::FakeStateStore store;
  controller::NullRecorder recorder(desired, {{"elsewhere", "!elsewhere:example.org"}});

  controller::ApplyReport report = controller::execute_plan(plan, desired, server, recorder, {});

  REQUIRE(report.ok());
  CHECK(report.succeeded == 2);
  CHECK(report.warnings.empty());
  const std::string room_id = server.state().rooms.at("ops").room_id;
  REQUIRE_FALSE(room_id.empty());
  CHECK(server.contexts().at(model::describe(invite)) == std::map<std::string, std::string>{{"ops", room_id}});
  CHECK(server.state().rooms.at("ops").members.count("@zed:example.org") == 1);
  CHECK(store.all_entries().empty());
  CHECK(store.room_ids()->empty());
  CHECK(store.rooms_written() == std::set<std::string>{});
  CHECK(store.journaled_room_creations() == std::set<std::string>{});
  CHECK(store.group_changes() == 0);
}

TEST_CASE("dry run: a homeserver that would refuse everything is not asked, and every operation would run",
          "[executor][dry-run]") {
  AccountPlan setup = account_plan({{"a", {}}, {"b", {0}}, {"c", {1}}, {"d", {}}});
  fakes::FakeHomeserver server;
  server.fail_next("", model::Error{Kind::forbidden, "fake M_FORBIDDEN: not an admin", {}, {}}, 100);
  controller::ExecutorOptions options;
  std::vector<std::string> progress;
  auto note = [&](const controller::OperationReport& op) {
    progress.push_back(op.description + ": " + controller::to_string(op.status) + ", " + std::to_string(op.attempts));
  };

  SECTION("before the deadline") {
    options.max_in_flight = 1;  // one at a time, so the order of progress is exact
    controller::ApplyReport report = controller::dry_run_plan(setup.plan, setup.desired, options, {}, note);

    CHECK(server.calls().empty());
    CHECK(progress == std::vector<std::string>{"create account a: would_run, 0", "create account b: would_run, 0",
                                               "create account c: would_run, 0", "create account d: would_run, 0"});
    CHECK(report.would_run == 4);
    CHECK(report.ok());
    CHECK(report.warnings.empty());
    CHECK(controller::apply_summary(report, true) ==
          "Dry run: nothing was applied. Resources: 4 to add, 0 to change, 0 to destroy.");
  }
  SECTION("after the deadline the dry run skips what apply would skip") {
    options.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
    controller::ApplyReport report = controller::dry_run_plan(setup.plan, setup.desired, options, {}, note);

    CHECK(server.calls().empty());
    CHECK(report.skipped == 4);
    CHECK(report.operations[0].error ==
          "skipped: the pass deadline (passTimeoutMinutes) passed before it could start");
    CHECK(controller::apply_summary(report, true) ==
          "Dry run: nothing was applied. Resources: 0 to add, 0 to change, 0 to destroy.");
  }
}

}  // namespace executor_recorder_test
