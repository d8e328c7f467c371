// The executor with the real SQLite store: its grouped journal and audit
// writes reach other connections when apply_plan returns, and within the
// group's age while the apply still runs, even when nothing else is written.

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "adapters/state_store.h"
#include "controller/apply_plan.h"
#include "model/plan.h"
#include "tests/fakes/fake_homeserver.h"
#include "tests/support/temp_dir.h"

namespace executor_store_test {

namespace {

using std::chrono::milliseconds;

// Desired accounts and a plan creating them, none depending on another.
struct AccountPlan {
  model::MatrixState desired;
  model::Plan plan;
};

AccountPlan accounts(const std::vector<std::string>& keys) {
  AccountPlan result;
  for (const std::string& key : keys) {
    model::Account account;
    account.key = key;
    account.localpart = key;
    account.user_id = "@" + key + ":example.org";
    result.desired.accounts[key] = account;
    model::Operation op;
    op.kind = model::Operation::Kind::create_account;
    op.account_key = key;
    result.plan.operations.push_back(op);
    result.plan.changes.push_back(
        {"account." + key, model::ResourceChange::Action::create, {}, "", {result.plan.operations.size() - 1}});
  }
  return result;
}

std::unique_ptr<adapters::StateStore> open_store(const std::string& path) {
  auto store = adapters::open_sqlite_store(path);
  REQUIRE(store);
  return std::move(*store);
}

}  // namespace

TEST_CASE("executor: with the SQLite store everything recorded is committed when apply_plan returns",
          "[executor][store]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  auto store = open_store(path);
  auto run = store->begin_run("apply");
  REQUIRE(run);
  std::vector<std::string> keys;
  for (int i = 0; i < 40; ++i) {
    keys.push_back("user" + std::to_string(i));
  }
  AccountPlan setup = accounts(keys);
  fakes::FakeHomeserver server;
  controller::ExecutorOptions options;
  options.max_in_flight = 4;
  controller::ApplyReport report =
      controller::apply_plan(setup.plan, setup.desired, server, *store, *run, options, {});
  REQUIRE(report.ok());
  CHECK(report.warnings.empty());

  // Another connection, as `mxctl audit` or the next pass would have.
  auto other = open_store(path);
  CHECK(other->journal(*run)->size() == 40);
  CHECK(other->audit({})->size() == 40);
  CHECK(other->managed_accounts()->size() == 40);
}

TEST_CASE("executor: grouped writes are committed within the group's age while workers wait on the server",
          "[executor][store]") {
  // a fails at once (a journal and an audit row, both grouped); b holds the
  // only other worker until another connection sees a's journal row. No
  // worker writes in between, so only the executor's own check can commit.
  class WaitingPort final : public adapters::HomeserverPort {
   public:
    WaitingPort(fakes::FakeHomeserver& inner, std::string path, std::int64_t run)
        : m_inner(inner), m_path(std::move(path)), m_run(run) {}
    model::Result<adapters::Observation> observe(const model::MatrixState& desired,
                                                 const adapters::ObserveHints& hints) override {
      return m_inner.observe(desired, hints);
    }
    model::Result<adapters::OperationOutcome> execute(const model::Operation& op,
                                                      const adapters::ExecutionContext& context) override {
      if (op.account_key == "b") {
        auto other = open_store(m_path);
        const auto started = std::chrono::steady_clock::now();
        while (std::chrono::steady_clock::now() - started < std::chrono::seconds(5)) {
          if (auto journal = other->journal(m_run); journal && !journal->empty()) {
            waited = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);
            break;
          }
          std::this_thread::sleep_for(milliseconds(5));
        }
      }
      return m_inner.execute(op, context);
    }
    std::optional<milliseconds> waited;

   private:
    fakes::FakeHomeserver& m_inner;
    std::string m_path;
    std::int64_t m_run;
  };

  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  auto store = open_store(path);
  auto run = store->begin_run("apply");
  REQUIRE(run);
  AccountPlan setup = accounts({"a", "b"});
  fakes::FakeHomeserver server;
  server.fail_next("create account a",
                   model::Error{model::Error::Kind::forbidden, "fake M_FORBIDDEN", {}, "M_FORBIDDEN"});
  WaitingPort port(server, path, *run);
  controller::ExecutorOptions options;
  options.max_in_flight = 2;
  controller::ApplyReport report = controller::apply_plan(setup.plan, setup.desired, port, *store, *run, options, {});

  CHECK(report.failed == 1);
  CHECK(report.succeeded == 1);
  REQUIRE(port.waited.has_value());
  // The group's age (100 ms) plus the executor's check interval (100 ms),
  // with room for a slow machine.
  CHECK(port.waited->count() < 1000);
}

}  // namespace executor_store_test
