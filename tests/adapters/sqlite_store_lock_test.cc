// The pass lock's lease: a holder renews it while it runs, a lock whose
// lease ran out is taken over (and the audit log says whose), and
// `mxctl unlock ID` removes exactly the lock an operator names.

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include <unistd.h>

#include "adapters/store/sqlite_db.h"
#include "adapters/store/sqlite_schema.h"
#include "adapters/store/sqlite_state_store.h"
#include "tests/support/temp_dir.h"

namespace sqlite_store_lock_test {

using adapters::SqliteStateStore;
using adapters::SqliteStoreOptions;
using Kind = model::Error::Kind;
using Clock = std::chrono::system_clock;
using namespace std::chrono_literals;

namespace {

// A clock the test moves by hand; shared with the renewing thread.
struct ManualClock {
  std::shared_ptr<std::atomic<std::int64_t>> ms = std::make_shared<std::atomic<std::int64_t>>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count());

  std::function<Clock::time_point()> function() const {
    auto shared = ms;
    return [shared] { return Clock::time_point(std::chrono::milliseconds(shared->load())); };
  }
  Clock::time_point now() const { return Clock::time_point(std::chrono::milliseconds(ms->load())); }
  void advance(std::chrono::milliseconds by) { *ms += by.count(); }
};

std::unique_ptr<SqliteStateStore> open_store(const std::string& path, const SqliteStoreOptions& options) {
  auto store = SqliteStateStore::open(path, options);
  REQUIRE(store.has_value());
  return std::move(*store);
}

SqliteStoreOptions options_with(const ManualClock& clock, std::chrono::milliseconds renew_every = 0ms) {
  SqliteStoreOptions options;
  options.clock = clock.function();
  options.renew_every = renew_every;
  return options;
}

std::shared_ptr<adapters::sqlite::Database> raw(const std::string& path) {
  auto db = adapters::sqlite::Database::open(path, "open raw");
  REQUIRE(db.has_value());
  return *db;
}

std::string query_text(adapters::sqlite::Database& db, const char* sql) {
  auto stmt = db.prepare(sql, "query");
  REQUIRE(stmt.has_value());
  auto row = stmt->step("query");
  REQUIRE(row.has_value());
  REQUIRE(*row);
  return stmt->text(0);
}

std::string this_host() {
  char buffer[256] = {};
  REQUIRE(gethostname(buffer, sizeof buffer - 1) == 0);
  return buffer;
}

// A lock row as another process would have left it.
void insert_lock(const std::string& path, std::int64_t pid, const std::string& host, const std::string& lock_id,
                 Clock::time_point renewed_at) {
  auto db = raw(path);
  auto stmt = db->prepare(
      "INSERT INTO lock (id, holder, pid, hostname, command, acquired_at, lock_id, renewed_at, lease_ms) "
      "VALUES (1, 'test', ?1, ?2, 'apply', '2024-05-01T12:00:00.000Z', ?3, ?4, 60000)",
      "insert lock");
  REQUIRE(stmt.has_value());
  stmt->bind_int64(1, pid).bind_text(2, host).bind_text(3, lock_id).bind_text(4, adapters::format_store_time(renewed_at));
  REQUIRE(stmt->run("insert lock").has_value());
}

// Polls `done` for up to ten seconds; true once it holds.
template <typename Done>
bool eventually(Done done) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

}  // namespace

TEST_CASE("sqlite lock: a holder on another host blocks only until its lease runs out", "[store][lock]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  ManualClock clock;
  auto store = open_store(path, options_with(clock));
  insert_lock(path, 1, "elsewhere.example.org", "0123456789abcdef", clock.now());

  auto refused = store->lock("reconcile");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == Kind::conflict);
  CHECK_THAT(refused.error().message,
             Catch::StartsWith("another mxctl pass (apply, pid 1 on elsewhere.example.org, lock 0123456789abcdef) "
                               "has held the lock since 2024-05-01T12:00:00Z") &&
                 Catch::EndsWith("mxctl unlock 0123456789abcdef"));

  clock.advance(59s);
  CHECK_FALSE(store->lock("reconcile"));
  clock.advance(2s);
  auto taken = store->lock("reconcile");
  REQUIRE(taken);
  CHECK_THAT((*taken)->took_over(),
             Catch::StartsWith("took over the pass lock of apply, pid 1 on elsewhere.example.org, lock "
                               "0123456789abcdef, held since 2024-05-01T12:00:00Z: its lease ran out at "));
  auto audit = store->audit({});
  REQUIRE(audit);
  REQUIRE(audit->size() == 1);
  CHECK(audit->front().action == "take_over_lock");
  CHECK(audit->front().target == "0123456789abcdef");
  CHECK(audit->front().message == (*taken)->took_over());
}

TEST_CASE("sqlite lock: a live process on this host that stopped renewing loses the lock", "[store][lock]") {
  // The pid is alive (it is this test's parent), as a reused pid would be:
  // only the lease tells a holder from a stranger.
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  ManualClock clock;
  auto store = open_store(path, options_with(clock));
  insert_lock(path, getppid(), this_host(), "feedfacefeedface", clock.now() - 61s);
  auto taken = store->lock("apply");
  REQUIRE(taken);
  CHECK_THAT((*taken)->took_over(), Catch::Contains("lock feedfacefeedface") && Catch::Contains("lease ran out"));
  CHECK(query_text(*raw(path), "SELECT pid FROM lock") == std::to_string(getpid()));
}

TEST_CASE("sqlite lock: a lock left with this process's own pid by an earlier process is taken over at once",
          "[store][lock]") {
  // A container restarted with the same host name: every run is pid 1.
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  ManualClock clock;
  auto store = open_store(path, options_with(clock));
  insert_lock(path, getpid(), this_host(), "0ddba11c0ffee000", clock.now());
  auto taken = store->lock("run");
  REQUIRE(taken);
  CHECK_THAT((*taken)->took_over(), Catch::Contains("lock 0ddba11c0ffee000") && Catch::Contains("process is gone"));
  // A lock this process does hold is still one no other store of it may take.
  auto second = open_store(path, options_with(clock));
  auto refused = second->lock("apply");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == Kind::conflict);
}

TEST_CASE("sqlite lock: a running holder renews its lease and keeps the lock", "[store][lock]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  ManualClock clock;
  const Clock::time_point start = clock.now();
  auto holder = open_store(path, options_with(clock, 10ms));
  auto held = holder->lock("apply");
  REQUIRE(held);
  CHECK((*held)->took_over().empty());

  // Fifty seconds on, the holder has renewed: the lease now runs to 110 s.
  clock.advance(50s);
  const std::string renewed = adapters::format_store_time(start + 50s);
  REQUIRE(eventually([&] { return query_text(*raw(path), "SELECT renewed_at FROM lock") == renewed; }));
  ManualClock later;
  *later.ms = std::chrono::duration_cast<std::chrono::milliseconds>((start + 100s).time_since_epoch()).count();
  auto other = open_store(path, options_with(later));
  auto refused = other->lock("reconcile");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == Kind::conflict);
  CHECK_FALSE((*held)->lost());

  SECTION("a holder whose renewals stopped reaching the store learns it lost the lock") {
    later.advance(11s);
    auto taken = other->lock("reconcile");
    REQUIRE(taken);
    CHECK(eventually([&] { return (*held)->lost(); }));
    // Its release leaves the new holder's lock alone.
    held->reset();
    CHECK(query_text(*raw(path), "SELECT command FROM lock") == "reconcile");
  }
  SECTION("releasing stops renewing and frees the lock") {
    held->reset();
    CHECK(query_text(*raw(path), "SELECT count(*) FROM lock") == "0");
    CHECK(other->lock("reconcile"));
  }
}

TEST_CASE("sqlite lock: unlock removes only the lock it names, and says so in the audit log", "[store][lock]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  ManualClock clock;
  auto store = open_store(path, options_with(clock));

  auto nothing = store->unlock("0123456789abcdef");
  REQUIRE_FALSE(nothing);
  CHECK(nothing.error().kind == Kind::not_found);
  CHECK(nothing.error().message == "the state store is not locked");

  insert_lock(path, 1, "elsewhere.example.org", "0123456789abcdef", clock.now());
  auto wrong = store->unlock("fedcba9876543210");
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().kind == Kind::conflict);
  CHECK(wrong.error().message ==
        "the lock is 0123456789abcdef (apply, pid 1 on elsewhere.example.org, lock 0123456789abcdef), not "
        "fedcba9876543210; nothing was removed");
  CHECK(query_text(*raw(path), "SELECT count(*) FROM lock") == "1");

  auto removed = store->unlock("0123456789abcdef");
  REQUIRE(removed);
  CHECK(*removed ==
        "apply, pid 1 on elsewhere.example.org, lock 0123456789abcdef, held since 2024-05-01T12:00:00Z");
  CHECK(query_text(*raw(path), "SELECT count(*) FROM lock") == "0");
  auto audit = store->audit({});
  REQUIRE(audit);
  REQUIRE(audit->size() == 1);
  CHECK(audit->front().action == "unlock");
  CHECK(audit->front().key == "lock");
  CHECK(audit->front().before == "apply, pid 1 on elsewhere.example.org, lock 0123456789abcdef");
  CHECK_THAT(audit->front().message, Catch::StartsWith("removed by mxctl unlock (pid " + std::to_string(getpid())));
  CHECK(store->lock("apply"));
}

TEST_CASE("sqlite lock: taking the lock closes runs a crashed holder left running", "[store][lock]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  ManualClock clock;
  auto store = open_store(path, options_with(clock));
  auto run = store->begin_run("apply");
  REQUIRE(run);
  insert_lock(path, 1, "elsewhere.example.org", "0123456789abcdef", clock.now() - 2min);
  REQUIRE(store->lock("apply"));
  CHECK(query_text(*raw(path), "SELECT outcome FROM runs") == "interrupted");
}

}  // namespace sqlite_store_lock_test
