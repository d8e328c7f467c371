// An apply under a homeserver's rate limit slows down instead of failing:
// 429s are waited out beyond max_attempts (and counted as retries), fewer
// attempts are in flight while they come, and the pass deadline ends the
// waiting: operations not started by then are skipped, and a wait that
// would end after it is not made.

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "controller/apply_plan.h"
#include "model/plan.h"
#include "tests/fakes/fake_homeserver.h"
#include "tests/fakes/fake_state_store.h"

namespace executor_rate_limit_test {

namespace {

using std::chrono::milliseconds;
using Status = controller::OperationReport::Status;
using Kind = model::Error::Kind;

constexpr std::int64_t k_run = 3;

// Accounts a, b, ... created by independent operations.
struct AccountPlan {
  model::MatrixState desired;
  model::Plan plan;
};

AccountPlan accounts(int count) {
  AccountPlan result;
  for (int i = 0; i < count; ++i) {
    const std::string key(1, static_cast<char>('a' + i));
    model::Account account;
    account.key = key;
    account.localpart = key;
    account.user_id = "@" + key + ":example.org";
    result.desired.accounts[key] = account;
    model::Operation op;
    op.kind = model::Operation::Kind::create_account;
    op.account_key = key;
    result.plan.operations.push_back(op);
    result.plan.changes.push_back({"account." + key, model::ResourceChange::Action::create, {}, "",
                                   {result.plan.operations.size() - 1}});
  }
  return result;
}

model::Error limited() {
  return model::Error{Kind::rate_limited, "POST /x: 429 M_LIMIT_EXCEEDED: Too Many Requests", milliseconds(20),
                      "M_LIMIT_EXCEEDED"};
}

// The fake homeserver behind a rate limit: its first `refusals` calls are
// 429s. Counts the calls in flight (refused ones included) and the most
// that were once the refusals were over.
class LimitedPort final : public adapters::HomeserverPort {
 public:
  LimitedPort(fakes::FakeHomeserver& inner, int refusals) : m_inner(inner), m_refusals(refusals) {}

  model::Result<adapters::Observation> observe(const model::MatrixState& desired,
                                               const adapters::ObserveHints& hints) override {
    return m_inner.observe(desired, hints);
  }

  model::Result<adapters::OperationOutcome> execute(const model::Operation& operation,
                                                    const adapters::ExecutionContext& context) override {
    const int running = ++m_in_flight;
    model::Result<adapters::OperationOutcome> result = tl::unexpected(limited());
    if (m_refusals.fetch_sub(1) <= 0) {
      for (int peak = m_peak_after; running > peak && !m_peak_after.compare_exchange_weak(peak, running);) {
      }
      std::this_thread::sleep_for(milliseconds(20));  // so that attempts let in together overlap
      result = m_inner.execute(operation, context);
    }
    --m_in_flight;
    return result;
  }

  int peak_after_refusals() const { return m_peak_after; }

 private:
  fakes::FakeHomeserver& m_inner;
  std::atomic<int> m_refusals;
  std::atomic<int> m_in_flight{0};
  std::atomic<int> m_peak_after{0};
};

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

}  // namespace

TEST_CASE("executor: 429s are waited out beyond max_attempts and counted as retries", "[executor][ratelimit]") {
  AccountPlan setup = accounts(2);
  fakes::FakeHomeserver server;
  fakes::FakeStateStore store;
  RecordingSleeper sleeper;
  controller::ExecutorOptions options;
  options.sleep = sleeper.sleeper();
  options.retry.max_attempts = 3;
  server.fail_next("create account a", limited(), 20);
  controller::ApplyReport report = controller::apply_plan(setup.plan, setup.desired, server, store, k_run, options, {});
  CHECK(report.ok());
  CHECK(report.operations[0].status == Status::succeeded);
  CHECK(report.operations[0].attempts == 21);
  CHECK(report.retried == 1);
  CHECK(report.repeated_attempts == 20);
  REQUIRE(sleeper.waits.size() == 20);
  for (long long wait : sleeper.waits) {
    CHECK(wait >= 20);  // never sooner than the server said
  }
  SECTION("a transient failure still ends at max_attempts") {
    fakes::FakeHomeserver failing;
    failing.fail_next("create account a", model::Error{Kind::transient, "POST /x: 502", std::nullopt, {}}, 10);
    controller::ApplyReport failed =
        controller::apply_plan(setup.plan, setup.desired, failing, store, k_run + 1, options, {});
    CHECK(failed.operations[0].status == Status::failed);
    CHECK(failed.operations[0].attempts == 3);
  }
}

TEST_CASE("executor: while 429s come, fewer attempts are in flight", "[executor][ratelimit]") {
  AccountPlan setup = accounts(12);
  fakes::FakeHomeserver server;
  fakes::FakeStateStore store;
  LimitedPort port(server, 40);
  RecordingSleeper sleeper;
  controller::ExecutorOptions options;
  options.max_in_flight = 8;
  options.sleep = sleeper.sleeper();
  controller::ApplyReport report = controller::apply_plan(setup.plan, setup.desired, port, store, k_run, options, {});
  CHECK(report.ok());
  CHECK(report.succeeded == 12);
  CHECK(report.repeated_attempts == 40);
  // Three rounds of 429s close a window of 8 to 1; it then opens by one per
  // window's worth of answers: the twelve successes never see more than 5.
  CHECK(report.narrowest_window == 1);
  CHECK(port.peak_after_refusals() <= 5);
}

TEST_CASE("executor: the pass deadline ends rate-limit waits and skips what has not started",
          "[executor][ratelimit]") {
  AccountPlan setup = accounts(3);
  fakes::FakeHomeserver server;
  fakes::FakeStateStore store;
  RecordingSleeper sleeper;
  controller::ExecutorOptions options;
  options.sleep = sleeper.sleeper();
  SECTION("a deadline already past: nothing is sent") {
    options.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
    controller::ApplyReport report =
        controller::apply_plan(setup.plan, setup.desired, server, store, k_run, options, {});
    CHECK(report.skipped == 3);
    CHECK(server.calls().empty());
    CHECK(report.operations[0].error ==
          "skipped: the pass deadline (passTimeoutMinutes) passed before it could start");
  }
  SECTION("a wait that would end after the deadline is not made") {
    options.deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
    model::Error long_limit = limited();
    long_limit.retry_after = std::chrono::minutes(15);
    options.retry.max_retry_after = std::chrono::minutes(30);
    server.fail_next("create account a", long_limit, 1);
    controller::ApplyReport report =
        controller::apply_plan(setup.plan, setup.desired, server, store, k_run, options, {});
    CHECK(report.operations[0].status == Status::failed);
    CHECK(report.operations[0].attempts == 1);
    CHECK(report.operations[0].error ==
          "rate_limited: POST /x: 429 M_LIMIT_EXCEEDED: Too Many Requests; not tried again: the pass deadline "
          "(passTimeoutMinutes) comes first");
    CHECK(report.succeeded == 2);
    CHECK(sleeper.waits.empty());
  }
  SECTION("without a deadline, the budget of rate-limit waits ends them") {
    options.retry.rate_limit_budget = milliseconds(1000);
    server.fail_next("create account a", limited(), 100);
    controller::ApplyReport report =
        controller::apply_plan(setup.plan, setup.desired, server, store, k_run, options, {});
    CHECK(report.operations[0].status == Status::failed);
    CHECK(report.operations[0].error ==
          "rate_limited: POST /x: 429 M_LIMIT_EXCEEDED: Too Many Requests; not tried again: waiting once more "
          "would take it past 1 s of rate-limit waits, the most one operation waits");
    long long waited = 0;
    for (long long wait : sleeper.waits) {
      waited += wait;
    }
    // Each wait is 20 ms plus up to 100 (half the base delay) of jitter:
    // the waits stop only when the next one might not fit.
    CHECK(waited <= 1000);
    CHECK(waited > 880);
  }
}

}  // namespace executor_rate_limit_test
