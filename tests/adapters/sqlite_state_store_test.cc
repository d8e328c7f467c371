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

using adapters::AuditEntry;
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

TEST_CASE("sqlite store: rooms, messages and the sync token round-trip and survive reopening", "[store]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  {
    auto store = open_store(path);
    CHECK(store->room_ids().value().empty());
    CHECK(store->messages_sent().value().empty());
    CHECK(store->sync_token().value() == "");
    REQUIRE(store->set_room_id("community/riverside", "!a:example.org"));
    REQUIRE(store->set_room_id("community/ops", "!b:example.org"));
    REQUIRE(store->set_room_id("community/gone", "!c:example.org"));
    REQUIRE(store->set_room_id("community/ops", "!d:example.org"));
    REQUIRE(store->forget_room("community/gone"));
    REQUIRE(store->forget_room("community/never-known"));
    REQUIRE(store->mark_message_sent("community/riverside"));
    REQUIRE(store->mark_message_sent("community/riverside"));
    REQUIRE(store->set_sync_token("s72594_4483_1934"));
  }
  auto store = open_store(path);
  CHECK(store->room_ids().value() == std::map<std::string, std::string>{{"community/ops", "!d:example.org"},
                                                                         {"community/riverside", "!a:example.org"}});
  CHECK(store->messages_sent().value() == std::set<std::string>{"community/riverside"});
  CHECK(store->sync_token().value() == "s72594_4483_1934");
  SECTION("forgetting a room forgets its once-message too") {
    REQUIRE(store->forget_room("community/riverside"));
    CHECK(store->room_ids().value() == std::map<std::string, std::string>{{"community/ops", "!d:example.org"}});
    CHECK(store->messages_sent().value().empty());
  }
  SECTION("a room id recorded for another key is a conflict naming the key") {
    auto set = store->set_room_id("community/other", "!a:example.org");
    REQUIRE_FALSE(set.has_value());
    CHECK(set.error().kind == Kind::conflict);
    CHECK(set.error().message == "cannot record room id for community/other: UNIQUE constraint failed: rooms.room_id");
  }
}

TEST_CASE("sqlite store: the serial moves on content changes only", "[store]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  auto store = open_store(path);
  std::int64_t last = serial_of(*store);
  CHECK(last == 0);
  auto moved = [&] {
    std::int64_t now = serial_of(*store);
    bool increased = now > last;
    last = now;
    return increased;
  };
  REQUIRE(store->set_room_id("a", "!a:x"));
  CHECK(moved());
  REQUIRE(store->set_room_id("a", "!a2:x"));
  CHECK(moved());
  REQUIRE(store->mark_message_sent("a"));
  CHECK(moved());
  REQUIRE(store->set_sync_token("t1"));
  CHECK(moved());
  REQUIRE(store->forget_room("a"));
  CHECK(moved());

  // Writes that change nothing, reads, runs and the journal leave it alone.
  REQUIRE(store->set_room_id("b", "!b:x"));
  REQUIRE(store->mark_message_sent("b"));
  CHECK(moved());
  REQUIRE(store->set_room_id("b", "!b:x"));
  REQUIRE(store->mark_message_sent("b"));
  REQUIRE(store->set_sync_token("t1"));
  REQUIRE(store->forget_room("nobody"));
  REQUIRE(store->room_ids());
  auto run = store->begin_run("apply");
  REQUIRE(run);
  REQUIRE(store->record(JournalEntry{*run, "create room b", "ok", "", "", 1, {}}));
  REQUIRE(store->finish_run(*run, "succeeded", 1, 0));
  CHECK_FALSE(moved());
  {
    auto held = store->lock("apply");
    REQUIRE(held);
  }
  CHECK_FALSE(moved());

  store.reset();
  auto reopened = open_store(path);
  CHECK(serial_of(*reopened) == last);
}

TEST_CASE("sqlite store: runs and their journals", "[store]") {
  testing_support::TempDir dir;
  auto store = open_store((dir.path() / "mxctl.db").string());
  auto before = std::chrono::floor<milliseconds>(std::chrono::system_clock::now());
  auto first = store->begin_run("apply");
  auto second = store->begin_run("reconcile");
  REQUIRE(first);
  REQUIRE(second);
  CHECK(*second > *first);

  const auto at = std::chrono::floor<milliseconds>(std::chrono::system_clock::now()) - std::chrono::hours(30);
  std::vector<JournalEntry> written = {
      {*first, "create room community/riverside", "failed", "M_LIMIT_EXCEEDED", "too many requests", 1, at},
      {*second, "update room community/ops", "ok", "", "", 1, at},
      {*first, "create room community/riverside", "ok", "", "", 2, at + milliseconds(1500)},
      {*first, "invite @alice:example.org to community/riverside", "skipped", "", "depends on a failed change", 1,
       at + milliseconds(1501)},
  };
  for (const auto& entry : written) {
    REQUIRE(store->record(entry));
  }
  REQUIRE(store->finish_run(*first, "failed", 1, 1));
  auto after = std::chrono::system_clock::now();

  auto journal = store->journal(*first);
  REQUIRE(journal);
  REQUIRE(journal->size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    const JournalEntry& want = written[i == 0 ? 0 : i + 1];
    const JournalEntry& got = (*journal)[i];
    CHECK(got.run_id == want.run_id);
    CHECK(got.operation == want.operation);
    CHECK(got.result == want.result);
    CHECK(got.errcode == want.errcode);
    CHECK(got.message == want.message);
    CHECK(got.attempt == want.attempt);
    CHECK(got.at == want.at);
  }
  CHECK(store->journal(*second).value().size() == 1);
  CHECK(store->journal(9999).value().empty());

  auto runs = store->runs(10);
  REQUIRE(runs);
  REQUIRE(runs->size() == 2);
  const auto& newest = (*runs)[0];
  const auto& oldest = (*runs)[1];
  CHECK(newest.id == *second);
  CHECK(newest.command == "reconcile");
  CHECK(newest.outcome == "running");
  CHECK_FALSE(newest.finished.has_value());
  CHECK(oldest.id == *first);
  CHECK(oldest.command == "apply");
  CHECK(oldest.outcome == "failed");
  CHECK(oldest.changes_applied == 1);
  CHECK(oldest.failures == 1);
  CHECK(oldest.started >= before);
  REQUIRE(oldest.finished.has_value());
  CHECK(*oldest.finished >= oldest.started);
  CHECK(*oldest.finished <= after);
  CHECK(store->runs(1).value().size() == 1);
  CHECK(store->runs(0).value().empty());
  CHECK(store->runs(-1).value().size() == 2);

  SECTION("an unset time is recorded as now") {
    REQUIRE(store->record(JournalEntry{*second, "noop", "ok", "", "", 1, {}}));
    auto got = store->journal(*second).value();
    REQUIRE(got.size() == 2);
    CHECK(got[1].at >= before);
  }
  SECTION("unknown runs are not found") {
    auto finished = store->finish_run(9999, "succeeded", 0, 0);
    REQUIRE_FALSE(finished);
    CHECK(finished.error().kind == Kind::not_found);
    CHECK(finished.error().message == "cannot record end of run 9999: no such run");
    auto recorded = store->record(JournalEntry{9999, "create room x", "ok", "", "", 1, {}});
    REQUIRE_FALSE(recorded);
    CHECK(recorded.error().kind == Kind::not_found);
    CHECK(recorded.error().message == "cannot record journal entry for run 9999 (create room x): no such run");
  }
}

TEST_CASE("sqlite store: the pass lock", "[store]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  auto first = open_store(path);
  auto second = open_store(path);

  SECTION("a live holder is a conflict naming it, until it lets go") {
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
  SECTION("the lock outlives the store that took it") {
    auto held = first->lock("apply");
    REQUIRE(held);
    first.reset();
    CHECK_FALSE(second->lock("apply"));
    held->reset();
    CHECK(second->lock("apply"));
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

TEST_CASE("sqlite store: an observation saves its token and changed snapshots together", "[store]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  {
    auto store = open_store(path);
    REQUIRE(store->save_observation("s1", {{"!a:x", std::string("[1]")}, {"!b:x", std::string("[2]")}}));
    REQUIRE(store->save_observation("s2", {{"!a:x", std::string("[3]")}, {"!b:x", std::nullopt}}));
  }
  auto store = open_store(path);
  CHECK(store->sync_token() == std::string("s2"));
  auto snapshots = store->room_snapshots();
  REQUIRE(snapshots);
  CHECK(*snapshots == std::map<std::string, std::string>{{"!a:x", "[3]"}});
  CHECK(store->room_snapshot_digests() ==
        std::map<std::string, std::string>{{"!a:x", adapters::snapshot_digest("[3]")}});
  auto text = store->room_snapshot("!a:x");
  REQUIRE(text);
  CHECK(*text == std::optional<std::string>("[3]"));
  auto none = store->room_snapshot("!b:x");
  REQUIRE(none);
  CHECK_FALSE(none->has_value());
}

namespace {

std::optional<adapters::ConvergedVerdict> verdict_of(SqliteStateStore& store) {
  auto kept = store.converged_verdict();
  REQUIRE(kept);
  return *kept;
}

}  // namespace

TEST_CASE("sqlite store: the converged verdict is kept whole, replaced, and added to a version 11 store", "[store]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  adapters::ConvergedVerdict verdict;
  verdict.key = "k1";
  verdict.valid_until_ms = 9'000'000'000'000;
  verdict.replay.paths = {"/_synapse/admin/v2/users?from=0", "/_synapse/admin/v2/users?from=5000"};
  verdict.replay.digest = "d1";
  {
    auto store = open_store(path);
    CHECK(verdict_of(*store) == std::optional<adapters::ConvergedVerdict>());
    REQUIRE(store->keep_converged_verdict(verdict));
    CHECK(verdict_of(*store) == std::optional<adapters::ConvergedVerdict>(verdict));
    verdict.replay.paths.clear();
    verdict.key = "k2";
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

TEST_CASE("sqlite store: lifecycle records: archives, tombstones, accounts, protection", "[store]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  {
    auto store = open_store(path);
    REQUIRE(store->set_room_id("community/a", "!a:x"));
    REQUIRE(store->mark_message_sent("community/a"));
    REQUIRE(store->save_observation("s1", {{"!a:x", std::string("[1]")}, {"!b:x", std::string("[2]")}}));
    REQUIRE(store->record_archive("community/a", "!a:x", 1000));
    REQUIRE(store->record_archive("community/a", "!a:x", 2000));  // the first archive time counts
    REQUIRE(store->record_archive("community/b", "!b:x", 3000));
    REQUIRE(store->remember_account("alice", "@alice:x"));
    REQUIRE(store->remember_account("bob", "@bob:x"));
    REQUIRE(store->set_account_suspended("bob", true));
    REQUIRE(store->set_protected("room.community/a", true));
    REQUIRE(store->set_protected("account.bob", true));
    REQUIRE(store->set_protected("account.bob", false));
  }
  auto store = open_store(path);
  CHECK(store->archive_records() == std::map<std::string, std::int64_t>{{"community/a", 1000}, {"community/b", 3000}});
  CHECK(store->managed_accounts() == std::map<std::string, std::string>{{"alice", "@alice:x"}, {"bob", "@bob:x"}});
  CHECK(store->suspended_accounts() == std::set<std::string>{"bob"});
  CHECK(store->protected_addresses() == std::set<std::string>{"room.community/a"});
  REQUIRE(store->clear_archive("community/b"));
  CHECK(store->archive_records()->count("community/b") == 0);

  // A tombstone forgets everything else about the room, in one go.
  REQUIRE(store->record_tombstone({"community/a", "!a:x", 1000, 9000}));
  auto tombstones = store->tombstones();
  REQUIRE(tombstones);
  REQUIRE(tombstones->size() == 1);
  CHECK(tombstones->at(0).key == "community/a");
  CHECK(tombstones->at(0).room_id == "!a:x");
  CHECK(tombstones->at(0).archived_at == 1000);
  CHECK(tombstones->at(0).deleted_at == 9000);
  CHECK(store->room_ids()->count("community/a") == 0);
  CHECK(store->archive_records()->empty());
  CHECK(store->messages_sent()->count("community/a") == 0);
  CHECK(store->room_snapshots() == std::map<std::string, std::string>{{"!b:x", "[2]"}});

  // A renamed user keeps the MXID under the new key.
  REQUIRE(store->remember_account("alicia", "@alice:x"));
  CHECK(store->managed_accounts() == std::map<std::string, std::string>{{"alicia", "@alice:x"}, {"bob", "@bob:x"}});
}

TEST_CASE("sqlite store: the audit log keeps entries in order and filters by time and key", "[store]") {
  auto store = open_store(":memory:");
  using std::chrono::system_clock;
  const system_clock::time_point t1 = system_clock::time_point(std::chrono::milliseconds(1'700'000'000'000));
  const system_clock::time_point t2 = t1 + std::chrono::hours(1);
  AuditEntry first;
  first.run_id = 1;
  first.at = t1;
  first.action = "create_room";
  first.key = "community/a";
  first.target = "!a:x";
  first.result = "ok";
  AuditEntry second = first;
  second.at = t2;
  second.action = "set_state m.room.power_levels";
  second.before = "power_levels.users[\"@u:x\"]=10";
  second.after = "power_levels.users[\"@u:x\"]=50";
  AuditEntry third = second;
  third.key = "community/b";
  third.result = "failed";
  third.message = "forbidden: M_FORBIDDEN";
  for (const AuditEntry& entry : {first, second, third}) {
    REQUIRE(store->append_audit(entry));
  }
  auto all = store->audit({});
  REQUIRE(all);
  REQUIRE(all->size() == 3);
  CHECK(all->at(0).action == "create_room");
  CHECK(all->at(0).at == t1);
  CHECK(all->at(1).before == second.before);
  CHECK(all->at(1).after == second.after);
  CHECK(all->at(2).message == "forbidden: M_FORBIDDEN");
  CHECK(store->audit({t2, ""})->size() == 2);
  CHECK(store->audit({std::nullopt, "community/a"})->size() == 2);
  CHECK(store->audit({t2, "community/a"})->size() == 1);
}

TEST_CASE("sqlite store: m.direct records survive reopening and go with a forgotten room", "[store]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  {
    auto store = open_store(path);
    REQUIRE(store->mark_direct_set("dm/a", "@u:x"));
    REQUIRE(store->mark_direct_set("dm/a", "@u:x"));  // a repeat is harmless
    REQUIRE(store->mark_direct_set("dm/b", "@v:x"));
  }
  auto store = open_store(path);
  CHECK(store->directs_set() == std::set<std::pair<std::string, std::string>>{{"dm/a", "@u:x"}, {"dm/b", "@v:x"}});
  REQUIRE(store->forget_room("dm/a"));
  CHECK(store->directs_set() == std::set<std::pair<std::string, std::string>>{{"dm/b", "@v:x"}});
}

}  // namespace sqlite_state_store_test
