// `mxctl state migrate` in the adapters: a SQLite store holding every kind
// of content copied into a real PostgreSQL store reads back the same
// through the store's interface (ids, serial and blobs included, and new
// ids continue past the copied ones); a destination that holds anything is
// refused untouched, and a copy that fails midway leaves the destination
// empty.

#include "adapters/store/store_migration.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "adapters/postgres/postgres_connection.h"
#include "adapters/state_store.h"
#include "adapters/store/postgres_state_store.h"
#include "adapters/store/sqlite_db.h"
#include "adapters/store/sqlite_state_store.h"
#include "tests/support/postgres_server.h"
#include "tests/support/temp_dir.h"

namespace store_migration_test {

namespace {

using namespace std::chrono_literals;
using adapters::PostgresStateStore;
using adapters::SqliteStateStore;
using adapters::StateStore;
using Kind = model::Error::Kind;

template <typename T>
T value_of(model::Result<T> result) {
  INFO((result ? std::string() : result.error().message));
  REQUIRE(result);
  return std::move(*result);
}

void ok(const model::Result<void>& result) {
  INFO((result ? std::string() : result.error().message));
  REQUIRE(result);
}

std::unique_ptr<SqliteStateStore> open_sqlite(const std::string& path) {
  return value_of(SqliteStateStore::open(path));
}

std::unique_ptr<PostgresStateStore> open_postgres(const std::string& uri) {
  return value_of(PostgresStateStore::open(uri));
}

std::unique_ptr<adapters::postgres::Connection> raw(const std::string& uri) {
  return value_of(adapters::postgres::Connection::open(uri, "mxctl migration test"));
}

std::string one_value(adapters::postgres::Connection& db, const std::string& sql) {
  auto rows = value_of(db.query("read", sql));
  REQUIRE(rows.rows.size() == 1);
  return rows.rows[0].at(0).value_or("NULL");
}

// Bytes no text would hold: a NUL, high bytes, quotes and braces.
std::string binary(const std::string& tag) {
  return tag + std::string("\0\x01\xff\xfe\"{},\\ NULL", 15) + tag;
}

std::chrono::system_clock::time_point at(std::int64_t ms) { return std::chrono::system_clock::time_point(ms * 1ms); }

// Fills `store` with every kind of content the interface writes.
void fill(StateStore& store) {
  ok(store.set_room_id("community/riverside", "!riverside:x"));
  ok(store.set_room_id("community/riverside/general", "!general:x"));
  ok(store.set_room_id("dm/alice-bob", "!dm:x"));
  ok(store.set_room_id("community/gone", "!gone:x"));
  ok(store.mark_message_sent("community/riverside/general"));
  ok(store.mark_direct_set("dm/alice-bob", "@alice:x"));
  ok(store.mark_direct_set("dm/alice-bob", "@bob:x"));
  ok(store.save_observation("s72_token", {{"!riverside:x", R"([{"type":"m.room.name","content":{"name":"R"}}])"},
                                          {"!general:x", R"([{"type":"m.room.topic","content":{"topic":"\"q\""}}])"},
                                          {"!dm:x", "[]"}}));
  ok(store.keep_room_reads({{"!riverside:x", {"digest-r", binary("r")}}, {"!general:x", {"digest-g", binary("g")}}}));
  ok(store.mark_room_written("!general:x"));

  const std::int64_t first = value_of(store.begin_run("apply"));
  ok(store.record({first, "create room community/riverside", "ok", "", "", 1, at(1700000000123)}));
  ok(store.record({first, "invite @bob:x to community/riverside", "failed", "M_FORBIDDEN", "no \"power\"", 2,
                   at(1700000000456)}));
  ok(store.finish_run(first, "failed", 1, 1));
  const std::int64_t second = value_of(store.begin_run("reconcile"));
  ok(store.record({second, "create room community/gone", "planned", "", "", 0, at(1700000001000)}));
  ok(store.finish_run(second, "succeeded", 3, 0));
  ok(store.append_audit({0, first, at(1700000000500), "create_room", "community/riverside", "!riverside:x", "",
                         "Riverside", "ok", ""}));
  ok(store.append_audit({0, second, at(1700000001500), "set_state m.room.power_levels", "community/riverside",
                         "!riverside:x", "{\"users\":{}}", "{\"users\":{\"@bob:x\":50}}", "failed", "M_FORBIDDEN"}));

  ok(store.record_archive("community/riverside/general", "!general:x", 1700000002000));
  ok(store.record_tombstone({"community/gone", "!gone:x", 1690000000000, 1700000003000}));
  ok(store.remember_account("alice", "@alice:x"));
  ok(store.remember_account("bob", "@bob:x"));
  ok(store.set_account_suspended("bob", true));
  ok(store.set_protected("room.community/riverside", true));
  ok(store.set_protected("account.alice", true));

  ok(store.keep_probe({"server|bot|digest", R"({"versions":["v1.11"]})", 1700000004000}));
  ok(store.keep_compiled_desired({"inputs-digest", binary("desired")}));
  adapters::ConvergedVerdict verdict;
  verdict.key = "verdict-key";
  verdict.valid_until_ms = 1800000000000;
  verdict.replay.paths = {"/_matrix/client/v3/rooms/%21a%3Ax/state", "/_synapse/admin/v2/users?from=0"};
  verdict.replay.digest = "replay-digest";
  ok(store.keep_converged_verdict(verdict));
  REQUIRE(value_of(store.record_transaction("txn-1")));
  REQUIRE(value_of(store.record_transaction("txn-2")));
}

std::string describe(const adapters::RunRecord& run) {
  return std::to_string(run.id) + "|" + run.command + "|" + std::to_string(run.started.time_since_epoch().count()) +
         "|" + (run.finished ? std::to_string(run.finished->time_since_epoch().count()) : "-") + "|" + run.outcome +
         "|" + std::to_string(run.changes_applied) + "|" + std::to_string(run.failures);
}

std::string describe(const adapters::JournalEntry& entry) {
  return std::to_string(entry.run_id) + "|" + entry.operation + "|" + entry.result + "|" + entry.errcode + "|" +
         entry.message + "|" + std::to_string(entry.attempt) + "|" +
         std::to_string(entry.at.time_since_epoch().count());
}

std::string describe(const adapters::AuditEntry& entry) {
  return std::to_string(entry.id) + "|" + std::to_string(entry.run_id) + "|" +
         std::to_string(entry.at.time_since_epoch().count()) + "|" + entry.action + "|" + entry.key + "|" +
         entry.target + "|" + entry.before + "|" + entry.after + "|" + entry.result + "|" + entry.message;
}

std::string describe(const adapters::Tombstone& tombstone) {
  return tombstone.key + "|" + tombstone.room_id + "|" + std::to_string(tombstone.archived_at) + "|" +
         std::to_string(tombstone.deleted_at);
}

template <typename T>
std::vector<std::string> described(const std::vector<T>& items) {
  std::vector<std::string> out;
  for (const T& item : items) {
    out.push_back(describe(item));
  }
  return out;
}

// Everything the store's interface reads, in one comparable form.
struct Contents {
  std::map<std::string, std::string> room_ids;
  std::set<std::string> messages_sent;
  std::string sync_token;
  std::map<std::string, std::string> snapshots;
  std::map<std::string, std::string> snapshot_digests;
  std::set<std::pair<std::string, std::string>> directs;
  std::set<std::string> rooms_written;
  std::map<std::string, adapters::KeptRoomRead> room_reads;
  std::string probe;
  std::optional<std::pair<std::string, std::string>> compiled;
  std::optional<adapters::ConvergedVerdict> verdict;
  std::vector<std::string> runs;
  std::map<std::int64_t, std::vector<std::string>> journals;
  std::set<std::string> creations;
  std::vector<std::string> audit;
  std::map<std::string, std::int64_t> archives;
  std::vector<std::string> tombstones;
  std::map<std::string, std::string> accounts;
  std::set<std::string> suspended;
  std::set<std::string> protected_addresses;
  std::int64_t serial = 0;
};

Contents read_all(StateStore& store) {
  Contents out;
  out.room_ids = value_of(store.room_ids());
  out.messages_sent = value_of(store.messages_sent());
  out.sync_token = value_of(store.sync_token());
  out.snapshots = value_of(store.room_snapshots());
  out.snapshot_digests = value_of(store.room_snapshot_digests());
  out.directs = value_of(store.directs_set());
  out.rooms_written = value_of(store.rooms_written());
  out.room_reads = value_of(store.room_reads());
  if (auto probe = value_of(store.kept_probe())) {
    out.probe = probe->key + "|" + probe->answer + "|" + std::to_string(probe->taken_at_ms);
  }
  if (auto compiled = value_of(store.compiled_desired())) {
    out.compiled = std::make_pair(compiled->digest, compiled->state);
  }
  out.verdict = value_of(store.converged_verdict());
  const auto runs = value_of(store.runs(-1));
  out.runs = described(runs);
  for (const adapters::RunRecord& run : runs) {
    out.journals[run.id] = described(value_of(store.journal(run.id)));
  }
  out.creations = value_of(store.journaled_room_creations());
  out.audit = described(value_of(store.audit({})));
  out.archives = value_of(store.archive_records());
  out.tombstones = described(value_of(store.tombstones()));
  out.accounts = value_of(store.managed_accounts());
  out.suspended = value_of(store.suspended_accounts());
  out.protected_addresses = value_of(store.protected_addresses());
  out.serial = value_of(store.serial());
  return out;
}

void check_same(const Contents& copy, const Contents& source) {
  CHECK(copy.room_ids == source.room_ids);
  CHECK(copy.messages_sent == source.messages_sent);
  CHECK(copy.sync_token == source.sync_token);
  CHECK(copy.snapshots == source.snapshots);
  CHECK(copy.snapshot_digests == source.snapshot_digests);
  CHECK(copy.directs == source.directs);
  CHECK(copy.rooms_written == source.rooms_written);
  CHECK(copy.room_reads == source.room_reads);
  CHECK(copy.probe == source.probe);
  CHECK(copy.compiled == source.compiled);
  CHECK(copy.verdict == source.verdict);
  CHECK(copy.runs == source.runs);
  CHECK(copy.journals == source.journals);
  CHECK(copy.creations == source.creations);
  CHECK(copy.audit == source.audit);
  CHECK(copy.archives == source.archives);
  CHECK(copy.tombstones == source.tombstones);
  CHECK(copy.accounts == source.accounts);
  CHECK(copy.suspended == source.suspended);
  CHECK(copy.protected_addresses == source.protected_addresses);
  CHECK(copy.serial == source.serial);
}

// The filled SQLite store of a test, closed.
struct FilledSource {
  testing_support::TempDir dir;
  std::string path = (dir.path() / "mxctl.db").string();
  Contents contents;

  FilledSource() {
    auto store = open_sqlite(path);
    fill(*store);
    contents = read_all(*store);
  }
};

// Every table of the PostgreSQL store, lock and meta aside, is empty, and
// the meta row is a fresh store's.
void check_destination_empty(const std::string& uri) {
  auto db = raw(uri);
  for (const char* table : {"runs", "journal", "audit", "rooms", "messages_sent", "directs_set", "accounts",
                            "archives", "tombstones", "protected", "room_snapshots", "room_reads", "rooms_written",
                            "appservice_transactions", "compiled_desired", "converged_verdict", "lock"}) {
    INFO(table);
    CHECK(one_value(*db, std::string("SELECT count(*) FROM mxctl.") + table) == "0");
  }
  CHECK(one_value(*db, "SELECT serial || '|' || sync_token || '|' || probe_key FROM mxctl.meta") == "0||");
}

}  // namespace

TEST_CASE("store migration: every kind of content reads back the same from PostgreSQL", "[store_migration]") {
  const std::string uri = testing_support::fresh_database_uri();
  if (uri.empty()) {
    return;
  }
  FilledSource source;
  // A store that is only freshly created is an empty one.
  CHECK(open_postgres(uri)->created());

  const adapters::StoreMigration migrated = value_of(adapters::migrate_sqlite_store_to_postgres(source.path, uri));
  CHECK(migrated.source == source.path);
  CHECK(migrated.destination == uri);
  CHECK(migrated.serial == source.contents.serial);
  std::map<std::string, std::int64_t> rows;
  for (const adapters::MigratedTable& table : migrated.tables) {
    rows[table.name] = table.rows;
  }
  CHECK(rows.size() == 16);
  CHECK(rows.count("lock") == 0);
  CHECK(rows.at("runs") == 2);
  CHECK(rows.at("journal") == 3);
  CHECK(rows.at("audit") == 2);
  CHECK(rows.at("rooms") == 3);  // the tombstone forgot community/gone
  CHECK(rows.at("room_reads") == 2);
  CHECK(rows.at("tombstones") == 1);
  CHECK(rows.at("appservice_transactions") == 2);
  CHECK(rows.at("compiled_desired") == 1);
  CHECK(rows.at("converged_verdict") == 1);
  CHECK(migrated.total_rows() > 20);

  auto copy = open_postgres(uri);
  CHECK_FALSE(copy->created());
  check_same(read_all(*copy), source.contents);
  // Both locks were released.
  CHECK(value_of(copy->lock("apply")) != nullptr);
  CHECK(value_of(open_sqlite(source.path)->lock("apply")) != nullptr);

  // New rows continue past the copied ids; a repeated transaction is known.
  std::int64_t highest_run = 0;
  for (const adapters::RunRecord& run : value_of(copy->runs(-1))) {
    highest_run = std::max(highest_run, run.id);
  }
  CHECK(value_of(copy->begin_run("apply")) > highest_run);
  ok(copy->append_audit({0, 0, at(1700000009000), "create_room", "community/new", "", "", "", "ok", ""}));
  const auto audit = value_of(copy->audit({}));
  REQUIRE(audit.size() == 3);
  CHECK(audit.back().id > audit[1].id);
  CHECK_FALSE(value_of(copy->record_transaction("txn-2")));
  CHECK(value_of(copy->record_transaction("txn-3")));
  ok(copy->record_tombstone({"community/riverside", "!riverside:x", 1, 2}));
  CHECK(value_of(copy->tombstones()).size() == 2);
}

TEST_CASE("store migration: ids continue past those the source gave out, not only those it still holds",
          "[store_migration]") {
  const std::string uri = testing_support::fresh_database_uri();
  if (uri.empty()) {
    return;
  }
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  {
    auto store = open_sqlite(path);
    for (int i = 0; i < 5; ++i) {
      value_of(store->begin_run("apply"));
    }
  }
  {
    // Pruned history: the ids of runs 4 and 5 were given out all the same.
    auto db = value_of(adapters::sqlite::Database::open(path, "prune runs"));
    ok(db->exec("DELETE FROM runs WHERE id > 3", "prune runs"));
  }
  value_of(adapters::migrate_sqlite_store_to_postgres(path, uri));
  CHECK(value_of(open_postgres(uri)->begin_run("apply")) == 6);
}

TEST_CASE("store migration: a destination that holds anything is refused, nothing changed", "[store_migration]") {
  const std::string uri = testing_support::fresh_database_uri();
  if (uri.empty()) {
    return;
  }
  FilledSource source;
  SECTION("a room") {
    ok(open_postgres(uri)->set_room_id("community/other", "!other:x"));
    auto refused = adapters::migrate_sqlite_store_to_postgres(source.path, uri);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == Kind::conflict);
    const std::string& message = refused.error().message;
    CHECK(message.find(source.path) != std::string::npos);
    CHECK(message.find("is not empty (rooms: 1 row") != std::string::npos);
    CHECK(message.find("nothing was changed in " + uri) != std::string::npos);
    auto db = raw(uri);
    CHECK(one_value(*db, "SELECT count(*) FROM mxctl.rooms") == "1");
    CHECK(one_value(*db, "SELECT count(*) FROM mxctl.runs") == "0");
    CHECK(one_value(*db, "SELECT count(*) FROM mxctl.audit") == "0");
    // Refused before its lock was taken: no holder row, no lock event.
    CHECK(one_value(*db, "SELECT count(*) FROM mxctl.lock") == "0");
  }
  SECTION("only a sync token") {
    ok(open_postgres(uri)->set_sync_token("s1"));
    auto refused = adapters::migrate_sqlite_store_to_postgres(source.path, uri);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message.find("sync token") != std::string::npos);
    CHECK(value_of(open_postgres(uri)->sync_token()) == "s1");
  }
  SECTION("only an audit entry") {
    ok(open_postgres(uri)->append_audit({0, 7, at(1), "create_room", "community/x", "", "", "", "ok", ""}));
    auto refused = adapters::migrate_sqlite_store_to_postgres(source.path, uri);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message.find("audit: 1 row") != std::string::npos);
  }
  // The source is as it was, and not left locked.
  auto again = open_sqlite(source.path);
  check_same(read_all(*again), source.contents);
  CHECK(value_of(again->lock("apply")) != nullptr);
}

TEST_CASE("store migration: a copy that fails midway leaves the destination empty", "[store_migration]") {
  const std::string uri = testing_support::fresh_database_uri();
  if (uri.empty()) {
    return;
  }
  FilledSource source;
  open_postgres(uri).reset();
  {
    // Tombstones are copied after runs, the journal, the audit log and rooms.
    auto db = raw(uri);
    ok(db->execute("make the destination refuse a row",
                   "ALTER TABLE mxctl.tombstones ADD CONSTRAINT no_gone CHECK (key <> 'community/gone')"));
  }
  auto failed = adapters::migrate_sqlite_store_to_postgres(source.path, uri);
  REQUIRE_FALSE(failed);
  const std::string& message = failed.error().message;
  CHECK(message.find("copy tombstones") != std::string::npos);
  CHECK(message.find("nothing was changed in " + uri) != std::string::npos);
  check_destination_empty(uri);
  // The sequences moved with the rolled-back inserts, or not: either way
  // a later, good copy keeps the source's ids.
  {
    auto db = raw(uri);
    ok(db->execute("take the obstacle away", "ALTER TABLE mxctl.tombstones DROP CONSTRAINT no_gone"));
  }
  value_of(adapters::migrate_sqlite_store_to_postgres(source.path, uri));
  check_same(read_all(*open_postgres(uri)), source.contents);
}

TEST_CASE("store migration: a lock left by an interrupted migration is taken over and kept in the audit log",
          "[store_migration]") {
  const std::string uri = testing_support::fresh_database_uri();
  if (uri.empty()) {
    return;
  }
  FilledSource source;
  open_postgres(uri).reset();
  {
    // What a migration killed before it finished leaves: its holder row.
    auto db = raw(uri);
    ok(db->execute("leave a holder row",
                   "INSERT INTO mxctl.lock (id, lock_id, holder, pid, hostname, command, acquired_at, backend_pid) "
                   "VALUES (1, 'deadbeefdeadbeef', 'pid 1 on elsewhere', 1, 'elsewhere', 'state migrate', "
                   "'2024-05-01T12:00:00.000Z', 2147483000)"));
  }
  value_of(adapters::migrate_sqlite_store_to_postgres(source.path, uri));
  auto copy = open_postgres(uri);
  const auto audit = value_of(copy->audit({}));
  REQUIRE(audit.size() == source.contents.audit.size() + 1);
  CHECK(described(std::vector<adapters::AuditEntry>(audit.begin(), audit.end() - 1)) == source.contents.audit);
  CHECK(audit.back().action == "take_over_lock");
  CHECK(audit.back().target == "deadbeefdeadbeef");
  CHECK(audit.back().id > audit[audit.size() - 2].id);
  CHECK(value_of(copy->serial()) == source.contents.serial);
}

TEST_CASE("store migration: what is not a SQLite store, or not a PostgreSQL URI, is refused", "[store_migration]") {
  testing_support::TempDir dir;
  const std::string missing = (dir.path() / "missing.db").string();
  SECTION("a source that does not exist is not made") {
    auto refused = adapters::migrate_sqlite_store_to_postgres(missing, "postgresql:///nowhere?host=/nonexistent");
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == Kind::invalid);
    CHECK(refused.error().message.find("there is no state store at " + missing) != std::string::npos);
    CHECK(refused.error().message.find("nothing was changed") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(missing));
  }
  SECTION("a source that is a PostgreSQL database") {
    auto refused = adapters::migrate_sqlite_store_to_postgres("postgresql://u:secret@db/x", "postgres://db/y");
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message.find("the source must be a SQLite file") != std::string::npos);
    CHECK(refused.error().message.find("secret") == std::string::npos);
  }
  SECTION("a destination that is not a PostgreSQL URI") {
    open_sqlite(missing).reset();
    auto refused = adapters::migrate_sqlite_store_to_postgres(missing, (dir.path() / "other.db").string());
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message.find("must be a postgresql:// or postgres:// URI") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir.path() / "other.db"));
  }
  SECTION("a destination that cannot be reached names it, password redacted") {
    open_sqlite(missing).reset();
    adapters::StoreMigrationOptions options;
    options.timeouts.connect = 2s;
    auto refused =
        adapters::migrate_sqlite_store_to_postgres(missing, "postgresql://u:secret@/db?host=/nonexistent", options);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message.find("secret") == std::string::npos);
    CHECK(refused.error().message.find("nothing was changed") != std::string::npos);
    // The source's lock was released.
    CHECK(value_of(open_sqlite(missing)->lock("apply")) != nullptr);
  }
}

TEST_CASE("store migration: a source whose lock a pass holds is refused", "[store_migration]") {
  const std::string uri = testing_support::fresh_database_uri();
  if (uri.empty()) {
    return;
  }
  FilledSource source;
  auto store = open_sqlite(source.path);
  auto held = value_of(store->lock("run"));
  auto refused = adapters::migrate_sqlite_store_to_postgres(source.path, uri);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == Kind::conflict);
  CHECK(refused.error().message.find("another mxctl pass (run, pid") != std::string::npos);
  CHECK(refused.error().message.find("nothing was changed") != std::string::npos);
  // The destination was not even opened.
  auto db = raw(uri);
  CHECK(one_value(*db, "SELECT count(*) FROM pg_namespace WHERE nspname = 'mxctl'") == "0");
}

}  // namespace store_migration_test
