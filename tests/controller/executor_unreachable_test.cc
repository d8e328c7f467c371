// Invites to users on a server that cannot be reached: the first invite
// finds out (once, not retried), the others to that server are skipped
// without a request and reported once, and the rest of the pass goes on.

#include "controller/apply_plan.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "adapters/homeserver_port.h"
#include "model/plan.h"
#include "tests/fakes/fake_state_store.h"

namespace executor_unreachable_test {

namespace {

using std::chrono::milliseconds;
using Kind = model::Operation::Kind;
using Status = controller::OperationReport::Status;

constexpr std::int64_t k_run = 5;

std::string server_of(const std::string& user) { return user.substr(user.find(':') + 1); }

// Invites to users on `down` fail as the HTTP adapter reports Synapse's 502;
// invites elsewhere (and everything else) succeed. Every call takes
// `latency`, and calls per invitee server are counted, with their overlap.
class FederationPort final : public adapters::HomeserverPort {
 public:
  FederationPort(std::string down, milliseconds latency) : m_down(std::move(down)), m_latency(latency) {}

  /// The next `count` invites to `server` fail with `error` instead.
  void fail_invites(const std::string& server, model::Error error, int count) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_failures[server] = {std::move(error), count};
  }

  model::Result<adapters::Observation> observe(const model::MatrixState&, const adapters::ObserveHints&) override {
    return adapters::Observation{};
  }

  model::Result<adapters::OperationOutcome> execute(const model::Operation& op,
                                                    const adapters::ExecutionContext&) override {
    const std::string server = op.kind == Kind::invite ? server_of(op.user_id) : "";
    std::optional<model::Error> failure;
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      if (!server.empty()) {
        if (++m_calls[server] > 1 && m_ended[server] == 0) {
          m_started_before_first_answer.insert(server);
        }
        m_peak[server] = std::max(m_peak[server], ++m_in_flight[server]);
        if (auto it = m_failures.find(server); it != m_failures.end() && it->second.second > 0) {
          --it->second.second;
          failure = it->second.first;
        }
      }
    }
    std::this_thread::sleep_for(m_latency);
    std::lock_guard<std::mutex> lock(m_mutex);
    if (!server.empty()) {
      --m_in_flight[server];
      ++m_ended[server];
    }
    if (failure) {
      return tl::unexpected(*failure);
    }
    if (server == m_down) {
      model::Error error = model::make_error(
          model::Error::Kind::unreachable, model::describe(op) +
                                               ": POST /_matrix/client/v3/rooms/!x:example.org/invite: HTTP 502 "
                                               "M_UNKNOWN: Can't connect to server " + m_down);
      error.errcode = "M_UNKNOWN";
      return tl::unexpected(error);
    }
    return adapters::OperationOutcome{};
  }

  int calls(const std::string& server) const {
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = m_calls.find(server);
    return it == m_calls.end() ? 0 : it->second;
  }
  /// True when a second invite to `server` started before the first one ended.
  bool overtook_first(const std::string& server) const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_started_before_first_answer.count(server) > 0;
  }
  int peak(const std::string& server) const {
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = m_peak.find(server);
    return it == m_peak.end() ? 0 : it->second;
  }

 private:
  std::string m_down;
  milliseconds m_latency;
  mutable std::mutex m_mutex;
  std::map<std::string, int> m_calls;
  std::map<std::string, int> m_in_flight;
  std::map<std::string, int> m_peak;
  std::map<std::string, int> m_ended;
  std::set<std::string> m_started_before_first_answer;
  std::map<std::string, std::pair<model::Error, int>> m_failures;
};

// In each of `rooms` rooms: a rename, an invite of dana's account on
// down.example, and an invite of erin on up.example.
model::Plan invite_plan(int rooms) {
  model::Plan plan;
  for (int r = 0; r < rooms; ++r) {
    const std::string room = "community/c" + std::to_string(r);
    model::Operation rename;
    rename.kind = Kind::set_state;
    rename.room_key = room;
    plan.operations.push_back(rename);
    for (const char* user : {"@dana:down.example", "@erin:up.example"}) {
      model::Operation invite;
      invite.kind = Kind::invite;
      invite.room_key = room;
      invite.user_id = user;
      plan.operations.push_back(invite);
    }
  }
  return plan;
}

std::vector<const controller::OperationReport*> invites_to(const model::Plan& plan,
                                                           const controller::ApplyReport& report,
                                                           const std::string& server) {
  std::vector<const controller::OperationReport*> out;
  for (std::size_t i = 0; i < plan.operations.size(); ++i) {
    if (plan.operations[i].kind == Kind::invite && server_of(plan.operations[i].user_id) == server) {
      out.push_back(&report.operations[i]);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("executor: one invite per pass finds a server unreachable, the others are skipped", "[executor][unreachable]") {
  const model::Plan plan = invite_plan(5);
  FederationPort port("down.example", milliseconds(20));
  fakes::FakeStateStore store;
  controller::ExecutorOptions options;
  options.max_in_flight = 8;
  std::vector<std::string> sleeps;
  options.sleep = [&](milliseconds) { sleeps.push_back("slept"); };
  controller::ApplyReport report = controller::apply_plan(plan, {}, port, store, k_run, options, {});

  CHECK(port.calls("down.example") == 1);
  CHECK(sleeps.empty());  // not retried
  CHECK(report.retried == 0);
  // Which room's invite finds out depends on which room's rename ends first.
  const auto down = invites_to(plan, report, "down.example");
  REQUIRE(down.size() == 5);
  auto first = std::find_if(down.begin(), down.end(),
                            [](const controller::OperationReport* op) { return op->status == Status::failed; });
  REQUIRE(first != down.end());
  CHECK((*first)->attempts == 1);
  CHECK((*first)->error.rfind("unreachable: invite @dana:down.example to community/c", 0) == 0);
  CHECK((*first)->error.find("HTTP 502 M_UNKNOWN: Can't connect to server down.example") != std::string::npos);
  for (const controller::OperationReport* op : down) {
    if (op != *first) {
      CHECK(op->status == Status::skipped);
      CHECK(op->attempts == 0);
      CHECK(op->error == "skipped: server down.example unreachable");
    }
  }
  // The rest converges.
  for (const controller::OperationReport* invite : invites_to(plan, report, "up.example")) {
    CHECK(invite->status == Status::succeeded);
  }
  CHECK(report.succeeded == 10);
  CHECK(report.failed == 1);
  CHECK(report.skipped == 4);
  CHECK_FALSE(report.ok());
  // Reported once, with the server, the error and the count.
  REQUIRE(report.warnings.size() == 1);
  CHECK(report.warnings[0].rfind("server down.example is unreachable (unreachable: invite @dana:down.example", 0) == 0);
  CHECK(report.warnings[0].find("HTTP 502 M_UNKNOWN: Can't connect to server down.example") != std::string::npos);
  CHECK(report.warnings[0].find("); 4 more invites to its users skipped without a request") != std::string::npos);
  // The journal has the attempt with its errcode and the skips with attempt 0.
  auto journal = store.journal(k_run);
  REQUIRE(journal);
  int skipped = 0;
  for (const adapters::JournalEntry& entry : *journal) {
    if (entry.operation == (*first)->description) {
      CHECK(entry.result == "failed");
      CHECK(entry.errcode == "M_UNKNOWN");
    } else if (entry.result == "skipped") {
      CHECK(entry.attempt == 0);
      ++skipped;
    }
  }
  CHECK(skipped == 4);

  SECTION("the next pass tries once more") {
    controller::ApplyReport again = controller::apply_plan(plan, {}, port, store, k_run + 1, options, {});
    CHECK(port.calls("down.example") == 2);
    CHECK(again.failed == 1);
    CHECK(again.skipped == 4);
  }
}

TEST_CASE("executor: invites to a server wait for the first one, then go together", "[executor][unreachable]") {
  const model::Plan plan = invite_plan(6);
  FederationPort port("down.example", milliseconds(20));
  fakes::FakeStateStore store;
  controller::ExecutorOptions options;
  options.max_in_flight = 8;

  SECTION("once one invite got through, the others overlap") {
    controller::apply_plan(plan, {}, port, store, k_run, options, {});
    CHECK(port.calls("up.example") == 6);
    CHECK_FALSE(port.overtook_first("up.example"));
    CHECK(port.peak("up.example") >= 2);
    CHECK(port.calls("down.example") == 1);
  }
  SECTION("a first invite refused for another reason proves nothing: the next one probes") {
    port.fail_invites("up.example", model::make_error(model::Error::Kind::forbidden, "fake M_FORBIDDEN: banned"), 2);
    controller::ApplyReport report = controller::apply_plan(plan, {}, port, store, k_run, options, {});
    const auto up = invites_to(plan, report, "up.example");
    auto count = [&](Status status) {
      return std::count_if(up.begin(), up.end(), [&](const controller::OperationReport* op) { return op->status == status; });
    };
    CHECK(count(Status::failed) == 2);
    CHECK(count(Status::succeeded) == 4);
    CHECK(port.calls("up.example") == 6);
    CHECK_FALSE(port.overtook_first("up.example"));
  }
}

}  // namespace executor_unreachable_test
