// Group commit in the SQLite store: grouped writes wait in one transaction
// until max_writes or max_age, everything else commits them first, and a
// process killed outright loses only what was still pending. A second, raw
// connection plays the part of every other reader.

#include <catch2/catch.hpp>

#include <csignal>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include "adapters/store/sqlite_db.h"
#include "adapters/store/sqlite_state_store.h"
#include "tests/support/temp_dir.h"

namespace sqlite_group_commit_test {

using adapters::AuditEntry;
using adapters::GroupCommit;
using adapters::JournalEntry;
using adapters::SqliteStateStore;
using std::chrono::milliseconds;

namespace {

std::unique_ptr<SqliteStateStore> open_store(const std::string& path) {
  auto store = SqliteStateStore::open(path);
  REQUIRE(store.has_value());
  return std::move(*store);
}

// What another connection sees: one integer (a count).
std::int64_t count_from_outside(const std::string& path, const char* sql) {
  auto db = adapters::sqlite::Database::open(path, "open raw");
  REQUIRE(db.has_value());
  auto value = (*db)->query_int64(sql, "query");
  REQUIRE(value.has_value());
  return *value;
}

std::int64_t journal_rows(const std::string& path) { return count_from_outside(path, "SELECT count(*) FROM journal"); }

JournalEntry entry(std::int64_t run, const std::string& operation) {
  return JournalEntry{run, operation, "ok", "", "", 1, {}};
}

AuditEntry audit_entry(std::int64_t run, const std::string& key) {
  AuditEntry audit;
  audit.run_id = run;
  audit.at = std::chrono::system_clock::now();
  audit.action = "create_room";
  audit.key = key;
  audit.result = "ok";
  return audit;
}

// Never due by age within a test: only the count or an explicit commit.
GroupCommit by_count(int writes) { return GroupCommit{writes, std::chrono::hours(1)}; }

}  // namespace

TEST_CASE("sqlite store: grouped writes are committed together once max_writes are pending", "[store][group]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  auto store = open_store(path);
  auto run = store->begin_run("apply");
  REQUIRE(run);
  REQUIRE(store->set_group_commit(by_count(3)));

  REQUIRE(store->record(entry(*run, "a")));
  REQUIRE(store->append_audit(audit_entry(*run, "a")));
  CHECK(journal_rows(path) == 0);
  // This store's own reads see what is pending.
  CHECK(store->journal(*run).value().size() == 1);
  REQUIRE(store->set_room_id("community/a", "!a:x"));
  CHECK(journal_rows(path) == 1);
  CHECK(count_from_outside(path, "SELECT count(*) FROM audit") == 1);
  CHECK(count_from_outside(path, "SELECT count(*) FROM rooms") == 1);

  REQUIRE(store->record(entry(*run, "b")));
  CHECK(journal_rows(path) == 1);
  REQUIRE(store->flush());
  CHECK(journal_rows(path) == 2);
  // Nothing pending: flushing again is harmless.
  REQUIRE(store->flush());
}

TEST_CASE("sqlite store: grouped writes come due after max_age, at the next grouped write", "[store][group]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  auto store = open_store(path);
  auto run = store->begin_run("apply");
  REQUIRE(run);
  REQUIRE(store->set_group_commit(GroupCommit{1000, milliseconds(50)}));
  REQUIRE(store->record(entry(*run, "a")));
  CHECK(journal_rows(path) == 0);
  std::this_thread::sleep_for(milliseconds(60));
  REQUIRE(store->record(entry(*run, "b")));
  CHECK(journal_rows(path) == 2);
}

TEST_CASE("sqlite store: every other write, ending the group, the lock and closing commit what is pending",
          "[store][group]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  auto store = open_store(path);
  auto run = store->begin_run("apply");
  REQUIRE(run);
  REQUIRE(store->set_group_commit(by_count(1000)));
  REQUIRE(store->record(entry(*run, "a")));
  REQUIRE(store->mark_message_sent("community/a"));
  REQUIRE(store->mark_direct_set("dm/a", "@u:x"));
  REQUIRE(store->record_archive("community/a", "!a:x", 1000));
  REQUIRE(journal_rows(path) == 0);

  SECTION("a write that is never grouped") {
    REQUIRE(store->finish_run(*run, "succeeded", 1, 0));
    CHECK(journal_rows(path) == 1);
    CHECK(count_from_outside(path, "SELECT count(*) FROM messages_sent") == 1);
    CHECK(count_from_outside(path, "SELECT count(*) FROM directs_set") == 1);
    CHECK(count_from_outside(path, "SELECT count(*) FROM archives") == 1);
  }
  SECTION("a write that must be durable at once goes in with the group") {
    REQUIRE(store->remember_account("alice", "@alice:x"));
    CHECK(journal_rows(path) == 1);
    CHECK(count_from_outside(path, "SELECT count(*) FROM accounts") == 1);
    REQUIRE(store->set_account_suspended("alice", true));
    REQUIRE(store->record_tombstone({"community/a", "!a:x", 1000, 9000}));
    CHECK(count_from_outside(path, "SELECT count(*) FROM tombstones") == 1);
    CHECK(count_from_outside(path, "SELECT count(*) FROM archives") == 0);
  }
  SECTION("turning grouping off") {
    REQUIRE(store->set_group_commit(std::nullopt));
    CHECK(journal_rows(path) == 1);
    // From now on every write commits on its own.
    REQUIRE(store->record(entry(*run, "b")));
    CHECK(journal_rows(path) == 2);
  }
  SECTION("releasing the lock, before the lock row goes") {
    auto lock = store->lock("apply");
    REQUIRE(lock);
    REQUIRE(store->record(entry(*run, "b")));
    REQUIRE(journal_rows(path) == 1);
    lock->reset();
    CHECK(journal_rows(path) == 2);
    CHECK(count_from_outside(path, "SELECT count(*) FROM lock") == 0);
    // The store groups again after the lock committed its group.
    REQUIRE(store->record(entry(*run, "c")));
    CHECK(journal_rows(path) == 2);
    REQUIRE(store->flush());
    CHECK(journal_rows(path) == 3);
  }
  SECTION("closing the store") {
    store.reset();
    CHECK(journal_rows(path) == 1);
  }
}

TEST_CASE("sqlite store: a failed write leaves the rest of its group to commit", "[store][group]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  auto store = open_store(path);
  auto run = store->begin_run("apply");
  REQUIRE(run);
  REQUIRE(store->set_group_commit(by_count(1000)));
  REQUIRE(store->record(entry(*run, "a")));
  auto orphan = store->record(entry(9999, "b"));
  REQUIRE_FALSE(orphan);
  CHECK(orphan.error().message == "cannot record journal entry for run 9999 (b): no such run");
  REQUIRE(store->record(entry(*run, "c")));
  REQUIRE(store->flush());
  CHECK(journal_rows(path) == 2);
}

TEST_CASE("sqlite store: a multi-statement write that fails inside a group is undone alone", "[store][group]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  auto store = open_store(path);
  auto run = store->begin_run("apply");
  REQUIRE(run);
  REQUIRE(store->remember_account("alice", "@alice:x"));
  // Refuses the second of remember_account's statements, after its first
  // (moving @alice:x away from "alice") has run.
  auto db = adapters::sqlite::Database::open(path, "open raw");
  REQUIRE(db);
  REQUIRE((*db)->exec("CREATE TRIGGER refuse BEFORE INSERT ON accounts WHEN new.key = 'alicia' "
                      "BEGIN SELECT RAISE(ABORT, 'refused'); END",
                      "create trigger"));
  REQUIRE(store->set_group_commit(by_count(1000)));
  REQUIRE(store->record(entry(*run, "a")));
  auto renamed = store->remember_account("alicia", "@alice:x");
  REQUIRE_FALSE(renamed);
  CHECK(renamed.error().message == "cannot record managed account alicia: refused");
  REQUIRE(store->flush());
  CHECK(journal_rows(path) == 1);
  CHECK(store->managed_accounts() == std::map<std::string, std::string>{{"alice", "@alice:x"}});
}

TEST_CASE("sqlite store: a group waits for another connection's write lock like any write", "[store][group]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  auto opened = SqliteStateStore::open(path, milliseconds(50));
  REQUIRE(opened);
  auto& store = *opened;
  auto run = store->begin_run("apply");
  REQUIRE(run);
  REQUIRE(store->set_group_commit(by_count(1000)));
  auto writer = adapters::sqlite::Database::open(path, "open raw");
  REQUIRE(writer);
  REQUIRE((*writer)->exec("BEGIN IMMEDIATE", "begin"));
  auto recorded = store->record(entry(*run, "a"));
  REQUIRE_FALSE(recorded);
  CHECK(recorded.error().kind == model::Error::Kind::transient);
  REQUIRE((*writer)->exec("ROLLBACK", "rollback"));
  REQUIRE(store->record(entry(*run, "a")));
  REQUIRE(store->flush());
  CHECK(journal_rows(path) == 1);
}

TEST_CASE("sqlite store: a process killed with SIGKILL loses only its pending group", "[store][group]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  { open_store(path); }
  // The child opens its own connection: SQLite connections must not cross fork().
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    auto store = SqliteStateStore::open(path);
    if (!store) {
      _exit(1);
    }
    auto run = (*store)->begin_run("apply");
    auto held = (*store)->lock("apply");
    if (!run || !held || !(*store)->set_group_commit(by_count(1000))) {
      _exit(1);
    }
    for (const char* name : {"a", "b", "c"}) {
      if (!(*store)->record(entry(*run, name))) {
        _exit(1);
      }
    }
    if (!(*store)->flush() || !(*store)->record(entry(*run, "d")) ||
        !(*store)->set_room_id("community/d", "!d:x")) {
      _exit(1);
    }
    // Die with a group open, running no destructor, as a crash would.
    raise(SIGKILL);
    _exit(2);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);

  CHECK(journal_rows(path) == 3);
  CHECK(count_from_outside(path, "SELECT count(*) FROM rooms") == 0);
  // The dead process's write lock went with it: the next pass takes over.
  auto store = open_store(path);
  REQUIRE(store->lock("apply"));
  REQUIRE(store->set_room_id("community/d", "!d:x"));
  CHECK(store->room_ids().value().size() == 1);
}

}  // namespace sqlite_group_commit_test
