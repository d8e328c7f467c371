// Replicas of `mxctl run` on one PostgreSQL state store against mxsim: one
// leads (holds the pass lock), the other stands by and says so on /readyz
// and /metrics. The leader killed outright in the middle of an apply, or
// its database session ended by an operator, and the standby takes over
// within 10 s and converges; the journal shows no duplicate room or message
// and no write from the old leader after it lost the lock. Each replica
// uses an access token of its own, so the journal's device tells whose
// every request was. A plan in a third process works while a leader runs,
// a cron reconcile is refused the lock, and a standby whose own session
// ended connects again.

#include <signal.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "adapters/postgres/postgres_connection.h"
#include "tests/e2e/crash_support.h"
#include "tests/e2e/fixture.h"
#include "tests/support/postgres_server.h"
#include "tests/support/process.h"

namespace replicas_test {

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Every wait on a replica is bounded by this; past it, it hung.
constexpr auto k_limit = 60s;
// Requests answer this much later, so an apply lasts long enough to be
// interrupted in its middle.
constexpr std::int64_t k_request_delay_ms = 15;

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit = k_limit) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (condition()) {
      return true;
    }
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

// One `mxctl run` with a token (and so a device) of its own.
struct Replica {
  std::string token;
  std::string device;
  std::unique_ptr<e2e::Child> child;

  std::string log() const { return child->err(); }
  bool logged(const std::string& text) const { return log().find(text) != std::string::npos; }
};

std::map<std::string, std::string> replica_env(e2e::Fixture& fx, const std::string& state, const std::string& token) {
  auto env = fx.env();
  env["MXCTL_STATE"] = state;
  env["MATRIX_BOT_ACCESS_TOKEN"] = token;
  return env;
}

Replica start_replica(e2e::Fixture& fx, const std::string& state, const std::string& name) {
  Replica replica;
  replica.token = fx.homeserver().issue_token(e2e::k_bot);
  mxsim::ApiResponse whoami = fx.homeserver().handle(mxsim::make_request(
      "GET", "/_matrix/client/v3/account/whoami", {{"authorization", "Bearer " + replica.token}}, ""));
  REQUIRE(whoami.status == 200);
  replica.device = whoami.body.at("device_id");
  replica.child = std::make_unique<e2e::Child>(
      std::vector<std::string>{MXCTL_BINARY, "run", fx.manifests(), "--listen", "127.0.0.1:0"},
      replica_env(fx, state, replica.token), fx.scratch(name + ".out"), fx.scratch(name + ".err"));
  return replica;
}

// The status listener's base URL, from the line mxctl run logs at start.
std::string status_url(const Replica& replica) {
  std::string url;
  REQUIRE(eventually([&] {
    std::smatch match;
    const std::string log = replica.log();
    if (std::regex_search(log, match, std::regex(R"(on (http://127\.0\.0\.1:\d+))"))) {
      url = match[1];
    }
    return !url.empty();
  }));
  return url;
}

std::pair<int, std::string> http_get(const std::string& base, const std::string& path) {
  httplib::Client client(base);
  client.set_read_timeout(10, 0);
  auto answer = client.Get(path.c_str());
  REQUIRE(answer);
  return {answer->status, answer->body};
}

// Writes a device made after journal sequence number `after`.
std::size_t writes_by(e2e::Fixture& fx, const std::string& device, std::uint64_t after) {
  std::size_t count = 0;
  for (const mxsim::JournalEntry& entry : fx.homeserver().journal().entries(after)) {
    count += entry.write && entry.device_id == device ? 1 : 0;
  }
  return count;
}

// Room creations and messages, each counted once per request the journal kept.
std::size_t journaled(e2e::Fixture& fx, const std::string& route_part) {
  std::size_t count = 0;
  for (const mxsim::JournalEntry& entry : fx.homeserver().journal().entries(0)) {
    count += entry.status == 200 && entry.route.find(route_part) != std::string::npos ? 1 : 0;
  }
  return count;
}

// A plan through the shared store, as a third process: "No changes" and 0.
void check_plan_shows_no_changes(e2e::Fixture& fx, const std::string& state) {
  auto plan = testing_support::run_process({MXCTL_BINARY, "plan", fx.manifests(), "--detailed-exitcode"},
                                           replica_env(fx, state, fx.token()));
  INFO(plan.out << plan.err);
  CHECK(plan.exit_code == 0);
  CHECK(plan.out == "No changes. The homeserver matches the desired state.\n");
}

// Each desired room exactly once, with its marker and alias, no orphan, and
// each once-message sent once (the plan through the shared store is
// check_plan_shows_no_changes).
void check_no_duplicates(e2e::Fixture& fx) {
  const std::vector<e2e::DesiredRoom> desired = e2e::desired_rooms(fx);
  const e2e::ServerAudit audit = e2e::audit(fx.homeserver());
  CHECK(e2e::ownership_problems(audit, desired) == std::vector<std::string>{});
  CHECK(audit.rooms == desired.size());
  // Every room created once.
  CHECK(journaled(fx, "/createRoom") == audit.rooms);
}

struct SharedStore {
  std::string uri;
  std::string conninfo;
};

std::optional<SharedStore> shared_store() {
  testing_support::PostgresServer* server = testing_support::shared_postgres_server();
  if (server == nullptr) {
    return std::nullopt;
  }
  const std::string name = testing_support::fresh_database_name();
  server->create_database(name);
  return SharedStore{server->uri(name), server->conninfo(name)};
}

}  // namespace

TEST_CASE("e2e: the leader killed in the middle of an apply, the standby takes over within 10 s and converges",
          "[e2e][replicas]") {
  auto store = shared_store();
  if (!store) {
    return;
  }
  e2e::Fixture fx;
  e2e::slow_every_request(fx.homeserver(), k_request_delay_ms);
  Replica leader = start_replica(fx, store->uri, "leader");
  REQUIRE(eventually([&] { return leader.logged("leading: holding the pass lock"); }));
  Replica standby = start_replica(fx, store->uri, "standby");
  REQUIRE(eventually([&] { return standby.logged("standing by: another mxctl pass (run, pid " +
                                                 std::to_string(leader.child->pid())); }));
  INFO(leader.log() << standby.log());
  const std::string standby_status = status_url(standby);
  CHECK(http_get(standby_status, "/readyz") ==
        std::pair<int, std::string>{503, "standby: another replica holds the pass lock\n"});
  CHECK(http_get(standby_status, "/metrics").second.find("\nmxctl_leader 0\n") != std::string::npos);
  CHECK(writes_by(fx, standby.device, 0) == 0);

  // In the middle of the first apply: some rooms made, most not.
  REQUIRE(eventually([&] { return journaled(fx, "/createRoom") >= 3; }));
  REQUIRE(leader.child->running());
  leader.child->kill_and_wait();
  const auto killed = Clock::now();
  const std::uint64_t killed_at = fx.homeserver().journal().last_seq();

  REQUIRE(eventually([&] { return standby.logged("leading: took the pass lock"); }, 10s));
  CHECK(Clock::now() - killed < 10s);
  const std::uint64_t taken_at = fx.homeserver().journal().last_seq();
  CHECK(standby.logged("took over the pass lock of run, pid " + std::to_string(leader.child->pid())));
  REQUIRE(eventually([&] { return standby.logged("pass done (start)"); }));
  // The requests in flight when it died were answered; none came after.
  CHECK(writes_by(fx, leader.device, killed_at) <= 32);
  CHECK(writes_by(fx, leader.device, taken_at) == 0);
  CHECK(writes_by(fx, standby.device, killed_at) > 0);
  CHECK(eventually([&] { return http_get(standby_status, "/readyz").first == 200; }));
  CHECK(http_get(standby_status, "/metrics").second.find("\nmxctl_leader 1\n") != std::string::npos);

  fx.homeserver().faults().clear();
  check_plan_shows_no_changes(fx, store->uri);
  check_no_duplicates(fx);
  ::kill(standby.child->pid(), SIGTERM);
  CHECK(standby.child->wait() == 0);
}

TEST_CASE("e2e: the leader whose database session is ended stops writing at once, and the standby takes over",
          "[e2e][replicas]") {
  auto store = shared_store();
  if (!store) {
    return;
  }
  e2e::Fixture fx;
  e2e::slow_every_request(fx.homeserver(), k_request_delay_ms);
  Replica leader = start_replica(fx, store->uri, "leader");
  REQUIRE(eventually([&] { return leader.logged("leading: holding the pass lock"); }));
  Replica standby = start_replica(fx, store->uri, "standby");
  REQUIRE(eventually([&] { return standby.logged("standing by: "); }));
  INFO(leader.log() << standby.log());

  SECTION("a cron pass is refused the lock while a leader runs, and a plan works") {
    auto reconcile = testing_support::run_process({MXCTL_BINARY, "reconcile", fx.manifests()},
                                                  replica_env(fx, store->uri, fx.token()));
    INFO(reconcile.out << reconcile.err);
    CHECK(reconcile.exit_code != 0);
    CHECK(reconcile.err.find("another mxctl pass (run, pid " + std::to_string(leader.child->pid())) !=
          std::string::npos);
    REQUIRE(eventually([&] { return leader.logged("pass done (start)"); }));
    fx.homeserver().faults().clear();
    check_plan_shows_no_changes(fx, store->uri);
  }

  SECTION("pg_terminate_backend") {
    REQUIRE(eventually([&] { return journaled(fx, "/createRoom") >= 3; }));
    auto db = adapters::postgres::Connection::open(store->conninfo, "mxctl replicas test");
    REQUIRE(db);
    // The leader's store session: the one holding the advisory lock.
    auto ended = (*db)->query("end the leader's session",
                              "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND "
                              "granted AND database = (SELECT oid FROM pg_database WHERE datname = "
                              "current_database())");
    REQUIRE(ended);
    REQUIRE(ended->rows.size() == 1);
    CHECK(ended->rows[0][0] == "t");
    const std::uint64_t ended_at = fx.homeserver().journal().last_seq();

    // It stops: at most the operations already in flight finish (the
    // window is at most 32 wide), none starts; it says so and exits.
    REQUIRE(eventually([&] { return !leader.child->running(); }));
    CHECK(leader.child->wait() == 1);
    CHECK(leader.logged("lost the pass lock"));
    CHECK(writes_by(fx, leader.device, ended_at) <= 32);
    const std::uint64_t leader_gone = fx.homeserver().journal().last_seq();
    REQUIRE(eventually([&] { return standby.logged("leading: took the pass lock"); }, 10s));
    REQUIRE(eventually([&] { return standby.logged("pass done (start)"); }));
    CHECK(writes_by(fx, leader.device, leader_gone) == 0);
    fx.homeserver().faults().clear();
    check_plan_shows_no_changes(fx, store->uri);
    check_no_duplicates(fx);
  }
  if (standby.child->running()) {
    ::kill(standby.child->pid(), SIGTERM);
    CHECK(standby.child->wait() == 0);
  }
  if (leader.child->running()) {
    ::kill(leader.child->pid(), SIGTERM);
    CHECK(leader.child->wait() == 0);
  }
}

TEST_CASE("e2e: a standby whose database session ends connects again, and still takes over", "[e2e][replicas]") {
  auto store = shared_store();
  if (!store) {
    return;
  }
  e2e::Fixture fx;
  Replica leader = start_replica(fx, store->uri, "leader");
  REQUIRE(eventually([&] { return leader.logged("pass done (start)"); }));
  Replica standby = start_replica(fx, store->uri, "standby");
  REQUIRE(eventually([&] { return standby.logged("standing by: "); }));
  INFO(leader.log() << standby.log());
  auto db = adapters::postgres::Connection::open(store->conninfo, "mxctl replicas test");
  REQUIRE(db);
  // Every mxctl session but the leader's (which holds the lock): the standby's.
  auto ended = (*db)->query("end the standby's session",
                            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = "
                            "'mxctl state store' AND datname = current_database() AND pid NOT IN (SELECT pid FROM "
                            "pg_locks WHERE locktype = 'advisory' AND granted)");
  REQUIRE(ended);
  CHECK(ended->rows.at(0).at(0) == "1");
  REQUIRE(eventually([&] { return standby.logged("cannot ask the state store for the pass lock"); }, 10s));
  CHECK(standby.child->running());

  leader.child->kill_and_wait();
  REQUIRE(eventually([&] { return standby.logged("leading: took the pass lock"); }, 10s));
  REQUIRE(eventually([&] { return standby.logged("pass done (start)"); }));
  check_plan_shows_no_changes(fx, store->uri);
  ::kill(standby.child->pid(), SIGTERM);
  CHECK(standby.child->wait() == 0);
}

}  // namespace replicas_test
