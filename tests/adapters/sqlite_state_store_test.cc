// What is the SQLite store's own: the file (WAL, migrations from older
// versions, other programs' databases, damage), its lock row and pid-based
// takeover, busy timeouts and :memory:. What every engine must do is in
// store_*_contract_test.cc.

#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include "adapters/store/sqlite_db.h"
#include "adapters/store/sqlite_state_store.h"
#include "tests/support/temp_dir.h"

namespace sqlite_state_store_test {

using adapters::JournalEntry;
using adapters::SqliteStateStore;
using Kind = model::Error::Kind;
using std::chrono::milliseconds;

namespace {

std::unique_ptr<SqliteStateStore> open_store(const std::string& path) {
  auto store = SqliteStateStore::open(path);
  INFO((store ? std::string() : store.error().message));
  REQUIRE(store.has_value());
  return std::move(*store);
}

// A second, raw connection to look at (or tamper with) the file directly.
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

std::string host_name() {
  char buffer[256] = {};
  REQUIRE(gethostname(buffer, sizeof buffer - 1) == 0);
  return buffer;
}

void insert_lock(adapters::sqlite::Database& db, std::int64_t pid, const std::string& host,
                 const std::string& command, const std::string& acquired_at) {
  auto stmt = db.prepare(
      "INSERT INTO lock (id, holder, pid, hostname, command, acquired_at) VALUES (1, 'test', ?1, ?2, ?3, ?4)",
      "insert lock");
  REQUIRE(stmt.has_value());
  stmt->bind_int64(1, pid).bind_text(2, host).bind_text(3, command).bind_text(4, acquired_at);
  REQUIRE(stmt->run("insert lock").has_value());
}

std::int64_t serial_of(SqliteStateStore& store) {
  auto serial = store.serial();
  REQUIRE(serial.has_value());
  return *serial;
}

}  // namespace

TEST_CASE("sqlite store: a new file is created at the current schema in WAL mode", "[store]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  { open_store(path); }
  REQUIRE(std::filesystem::exists(path));
  auto db = raw(path);
  CHECK(query_text(*db, "PRAGMA user_version") == std::to_string(SqliteStateStore::k_schema_version));
  CHECK(query_text(*db, "PRAGMA journal_mode") == "wal");
  for (const char* table : {"rooms", "messages_sent", "meta", "runs", "journal", "lock", "accounts"}) {
    auto stmt = db->prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", "query");
    REQUIRE(stmt.has_value());
    stmt->bind_text(1, table);
    REQUIRE(stmt->step("query").value());
    CHECK(stmt->int64(0) == 1);
  }
  SECTION("reopening an up-to-date file changes nothing") {
    auto store = open_store(path);
    CHECK(serial_of(*store) == 0);
    CHECK(query_text(*db, "PRAGMA user_version") == std::to_string(SqliteStateStore::k_schema_version));
  }
}

TEST_CASE("sqlite store: an empty file and an empty database are migrated", "[store]") {
  testing_support::TempDir dir;
  SECTION("zero-byte file") {
    const std::string path = dir.write("empty.db", "");
    auto store = open_store(path);
    CHECK(store->room_ids().value().empty());
    CHECK(query_text(*raw(path), "PRAGMA user_version") == std::to_string(SqliteStateStore::k_schema_version));
  }
  SECTION("empty database") {
    const std::string path = (dir.path() / "blank.db").string();
    REQUIRE(raw(path)->exec("PRAGMA user_version = 0", "touch").has_value());
    auto store = open_store(path);
    CHECK(store->created());
    CHECK(query_text(*raw(path), "PRAGMA user_version") == std::to_string(SqliteStateStore::k_schema_version));
  }
}

TEST_CASE("sqlite store: another program's database is refused untouched", "[store]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "other.db").string();
  SECTION("tables but no schema version") {
    REQUIRE(raw(path)->exec("CREATE TABLE notes (x TEXT)", "create").has_value());
    auto store = SqliteStateStore::open(path);
    REQUIRE_FALSE(store.has_value());
    CHECK(store.error().kind == Kind::invalid);
    CHECK(store.error().message == "cannot open state store " + path +
                                       ": it is an SQLite database but not an mxctl state store (it holds notes); "
                                       "give --state the path of an mxctl state store, or a new path (mxctl makes "
                                       "a new store there)");
    CHECK(query_text(*raw(path), "SELECT group_concat(name) FROM sqlite_master") == "notes");
  }
  SECTION("another application id") {
    REQUIRE(raw(path)->exec("PRAGMA application_id = 42", "set").has_value());
    auto store = SqliteStateStore::open(path);
    REQUIRE_FALSE(store.has_value());
    CHECK_THAT(store.error().message, Catch::Contains("another program's SQLite database (application_id 42)"));
  }
  auto db = raw(path);
  CHECK(query_text(*db, "PRAGMA user_version") == "0");
  CHECK(query_text(*db, "PRAGMA journal_mode") == "delete");
}

TEST_CASE("sqlite store: a failed migration is rolled back whole", "[store]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  { open_store(path); }
  // As a version 5 build left it, but for a stray lease column: version 6
  // adds the lock id, then fails on the column that is already there.
  REQUIRE(raw(path)
              ->exec("ALTER TABLE lock DROP COLUMN lock_id; ALTER TABLE lock DROP COLUMN lease_ms; "
                     "PRAGMA user_version = 5",
                     "downgrade")
              .has_value());
  auto store = SqliteStateStore::open(path);
  REQUIRE_FALSE(store.has_value());
  CHECK(store.error().message ==
        "cannot open state store " + path + ": cannot migrate the schema to version 6: duplicate column name: renewed_at");
  auto db = raw(path);
  CHECK(query_text(*db, "PRAGMA user_version") == "5");
  CHECK(query_text(*db, "SELECT count(*) FROM pragma_table_info('lock') WHERE name = 'lock_id'") == "0");
}

TEST_CASE("sqlite store: a schema newer than this build is refused untouched", "[store]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  const int newer = SqliteStateStore::k_schema_version + 1;
  REQUIRE(raw(path)->exec(("PRAGMA user_version = " + std::to_string(newer)).c_str(), "set").has_value());
  auto store = SqliteStateStore::open(path);
  REQUIRE_FALSE(store.has_value());
  CHECK(store.error().kind == Kind::invalid);
  CHECK(store.error().message == "cannot open state store " + path + ": state store schema version " +
                                     std::to_string(newer) + " is newer than this mxctl supports (" +
                                     std::to_string(SqliteStateStore::k_schema_version) + "); upgrade mxctl");
  auto db = raw(path);
  CHECK(query_text(*db, "PRAGMA user_version") == std::to_string(newer));
  CHECK(query_text(*db, "SELECT count(*) FROM sqlite_master") == "0");
  CHECK(query_text(*db, "PRAGMA journal_mode") == "delete");
}

TEST_CASE("sqlite store: open failures name the file", "[store]") {
  testing_support::TempDir dir;
  SECTION("missing directory") {
    const std::string path = (dir.path() / "missing" / "mxctl.db").string();
    auto store = SqliteStateStore::open(path);
    REQUIRE_FALSE(store.has_value());
    CHECK(store.error().message == "cannot open state store " + path +
                                       ": cannot create the file: No such file or directory");
  }
  SECTION("not a database") {
    const std::string path = dir.write("notes.txt", std::string(4096, 'x'));
    auto store = SqliteStateStore::open(path);
    REQUIRE_FALSE(store.has_value());
    CHECK(store.error().kind == Kind::invalid);
    CHECK_THAT(store.error().message, Catch::StartsWith("cannot open state store " + path + ": ") &&
                                          Catch::Contains("file is not a database"));
  }
  SECTION("no path") {
    auto store = SqliteStateStore::open("");
    REQUIRE_FALSE(store.has_value());
    CHECK(store.error().message == "cannot open state store: no path given");
  }
}

// The lock's basic contract, on both engines, is store_pass_lock_contract_test.cc;
// here the lock row and the pid-based takeover, which are SQLite's own.
TEST_CASE("sqlite store: the pass lock's row and refusal name the holder, and a dead process's lock is taken over",
          "[store]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  auto first = open_store(path);
  auto second = open_store(path);

  SECTION("the lock row names a live holder, and so does the refusal, until it lets go") {
    auto held = first->lock("apply");
    REQUIRE(held);
    auto db = raw(path);
    const std::string acquired_at = query_text(*db, "SELECT acquired_at FROM lock");
    CHECK(query_text(*db, "SELECT holder FROM lock") ==
          "pid " + std::to_string(getpid()) + " on " + host_name());
    const std::string lock_id = query_text(*db, "SELECT lock_id FROM lock");
    CHECK(lock_id.size() == 16);
    auto refused = second->lock("reconcile");
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == Kind::conflict);
    CHECK_THAT(refused.error().message,
               Catch::StartsWith("another mxctl pass (apply, pid " + std::to_string(getpid()) + " on " + host_name() +
                                 ", lock " + lock_id + ") has held the lock since " + acquired_at.substr(0, 19) +
                                 "Z") &&
                   Catch::EndsWith("mxctl unlock " + lock_id));
    held->reset();
    CHECK(query_text(*db, "SELECT count(*) FROM lock") == "0");
    auto taken = second->lock("reconcile");
    REQUIRE(taken);
    CHECK(query_text(*db, "SELECT command FROM lock") == "reconcile");
  }
  SECTION("a lock left by a dead process on this host is taken over") {
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      _exit(0);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    insert_lock(*raw(path), child, host_name(), "apply", "2024-05-01T12:00:00.000Z");
    auto taken = first->lock("reconcile");
    REQUIRE(taken);
    CHECK(query_text(*raw(path), "SELECT pid FROM lock") == std::to_string(getpid()));
  }
}

TEST_CASE("sqlite store: a pass killed while holding the lock leaves it for the next", "[store]") {
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
    auto held = (*store)->lock("reconcile");
    if (!held) {
      _exit(1);
    }
    // Die with the lock held, running no destructor, as a crash would.
    raise(SIGKILL);
    _exit(2);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);
  CHECK(query_text(*raw(path), "SELECT pid || ' ' || command FROM lock") == std::to_string(child) + " reconcile");

  auto store = open_store(path);
  auto taken = store->lock("apply");
  REQUIRE(taken);
  CHECK(query_text(*raw(path), "SELECT pid || ' ' || command FROM lock") == std::to_string(getpid()) + " apply");
}

TEST_CASE("sqlite store: a busy database is a transient error", "[store]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  auto store = SqliteStateStore::open(path, milliseconds(50));
  REQUIRE(store);
  auto writer = raw(path);
  REQUIRE(writer->exec("BEGIN IMMEDIATE", "begin"));
  auto set = (*store)->set_room_id("community/x", "!x:example.org");
  REQUIRE_FALSE(set);
  CHECK(set.error().kind == Kind::transient);
  CHECK(set.error().retryable());
  CHECK(set.error().message == "cannot record room id for community/x: database is locked");
  auto locked = (*store)->lock("apply");
  REQUIRE_FALSE(locked);
  CHECK(locked.error().kind == Kind::transient);
  REQUIRE(writer->exec("ROLLBACK", "rollback"));
  CHECK((*store)->set_room_id("community/x", "!x:example.org"));
}

TEST_CASE("sqlite store: :memory: works through the StateStore interface", "[store]") {
  auto opened = adapters::open_sqlite_store(":memory:");
  REQUIRE(opened);
  adapters::StateStore& store = **opened;
  REQUIRE(store.set_room_id("community/ops", "!ops:example.org"));
  REQUIRE(store.mark_message_sent("community/ops"));
  REQUIRE(store.set_sync_token("s1"));
  CHECK(store.room_ids().value().at("community/ops") == "!ops:example.org");
  CHECK(store.messages_sent().value().count("community/ops") == 1);
  CHECK(store.sync_token().value() == "s1");
  CHECK(store.serial().value() == 3);
  auto run = store.begin_run("apply");
  REQUIRE(run);
  REQUIRE(store.record(JournalEntry{*run, "create room community/ops", "ok", "", "", 1, {}}));
  CHECK(store.journal(*run).value().size() == 1);
  auto held = store.lock("apply");
  REQUIRE(held);
  CHECK_FALSE(store.lock("apply"));
}

namespace {

std::optional<adapters::ConvergedVerdict> verdict_of(SqliteStateStore& store) {
  auto kept = store.converged_verdict();
  REQUIRE(kept);
  return *kept;
}

}  // namespace

// Keeping and replacing a verdict, on both engines, is store_kept_contract_test.cc.
TEST_CASE("sqlite store: a converged verdict that does not read is none, and a version 11 store gains the table",
          "[store]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  adapters::ConvergedVerdict verdict;
  verdict.key = "k1";
  verdict.valid_until_ms = 9'000'000'000'000;
  verdict.replay.paths = {"/_synapse/admin/v2/users?from=0"};
  verdict.replay.digest = "d1";
  {
    auto store = open_store(path);
    REQUIRE(store->keep_converged_verdict(verdict));
    CHECK(verdict_of(*store) == std::optional<adapters::ConvergedVerdict>(verdict));
  }
  // Paths kept one per line: a text that does not end its last line is not
  // one a store wrote, and reads as no verdict.
  REQUIRE(raw(path)->exec("UPDATE converged_verdict SET replay_paths = '/a'", "damage").has_value());
  CHECK(verdict_of(*open_store(path)) == std::optional<adapters::ConvergedVerdict>());
  // As a version 11 build left it.
  REQUIRE(raw(path)->exec("DROP TABLE converged_verdict; PRAGMA user_version = 11", "downgrade").has_value());
  auto store = open_store(path);
  CHECK(query_text(*raw(path), "PRAGMA user_version") == std::to_string(SqliteStateStore::k_schema_version));
  CHECK(verdict_of(*store) == std::optional<adapters::ConvergedVerdict>());
}

TEST_CASE("sqlite store: snapshots saved before digests were kept get theirs when the schema is migrated", "[store]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  {
    auto store = open_store(path);
    REQUIRE(store->save_observation("s1", {{"!a:x", std::string("[1]")}, {"!b:x", std::string("[2]")}}));
  }
  // As a version 10 build left it: no digest beside the snapshots.
  REQUIRE(raw(path)
              ->exec("ALTER TABLE room_snapshots DROP COLUMN digest; DROP TABLE converged_verdict; "
                     "PRAGMA user_version = 10",
                     "downgrade")
              .has_value());
  auto store = open_store(path);
  CHECK(query_text(*raw(path), "PRAGMA user_version") == std::to_string(SqliteStateStore::k_schema_version));
  CHECK(store->room_snapshot_digests() ==
        std::map<std::string, std::string>{{"!a:x", adapters::snapshot_digest("[1]")},
                                           {"!b:x", adapters::snapshot_digest("[2]")}});
  CHECK(store->room_snapshots() == std::map<std::string, std::string>{{"!a:x", "[1]"}, {"!b:x", "[2]"}});
  CHECK(store->sync_token() == std::string("s1"));
  REQUIRE(store->save_observation("s2", {{"!a:x", std::string("[3]")}}));
  CHECK(query_text(*raw(path), "SELECT digest FROM room_snapshots WHERE room_id = '!a:x'") ==
        adapters::snapshot_digest("[3]"));
  // Before the text, so reading it does not walk the text's overflow pages.
  CHECK(query_text(*raw(path), "SELECT group_concat(name) FROM pragma_table_info('room_snapshots')") ==
        "room_id,digest,updated_at,state");
}

TEST_CASE("sqlite store: a version 1 store gains the later tables and keeps its data", "[store]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "v1.db").string();
  {
    auto store = open_store(path);
    REQUIRE(store->set_room_id("community/a", "!a:x"));
  }
  // Pretend the file was written by a version 1 build.
  REQUIRE(raw(path)
              ->exec("DROP TABLE room_snapshots; DROP TABLE directs_set; DROP TABLE archives; DROP TABLE tombstones; "
                     "DROP TABLE protected; DROP TABLE audit; ALTER TABLE accounts DROP COLUMN suspended; "
                     "DROP TABLE rooms_written; DROP INDEX journal_room_creations; ALTER TABLE lock DROP COLUMN lock_id; "
                     "ALTER TABLE lock DROP COLUMN renewed_at; ALTER TABLE lock DROP COLUMN lease_ms; "
                     "DROP TABLE room_reads; DROP TABLE compiled_desired; DROP TABLE converged_verdict; DROP TABLE appservice_transactions; ALTER TABLE meta DROP COLUMN probe_key; "
                     "ALTER TABLE meta DROP COLUMN probe_answer; ALTER TABLE meta DROP COLUMN probe_taken_at; "
                     "PRAGMA application_id = 0; PRAGMA user_version = 1",
                     "downgrade")
              .has_value());
  auto store = open_store(path);
  CHECK(query_text(*raw(path), "PRAGMA user_version") == std::to_string(SqliteStateStore::k_schema_version));
  CHECK(store->directs_set() == std::set<std::pair<std::string, std::string>>{});
  CHECK(store->room_ids() == std::map<std::string, std::string>{{"community/a", "!a:x"}});
  CHECK(store->room_snapshots() == std::map<std::string, std::string>{});
  CHECK(store->archive_records() == std::map<std::string, std::int64_t>{});
  CHECK(store->suspended_accounts() == std::set<std::string>{});
}

}  // namespace sqlite_state_store_test
