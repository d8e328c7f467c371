// The SQLite store's side of the records that steer the next observation
// (the rooms mxctl wrote to, and the room creations its journal records):
// the index the lookup goes through, and the migration that brought them
// (schema version 5). What they mean, on both engines, is
// store_observation_contract_test.cc and store_pass_log_contract_test.cc.

#include <catch2/catch.hpp>

#include "adapters/store/sqlite_db.h"
#include "adapters/store/sqlite_state_store.h"
#include "tests/support/temp_dir.h"

namespace sqlite_observation_hints_test {

using adapters::JournalEntry;
using adapters::SqliteStateStore;

namespace {

std::unique_ptr<SqliteStateStore> open_store(const std::string& path) {
  auto store = SqliteStateStore::open(path);
  REQUIRE(store.has_value());
  return std::move(*store);
}

std::shared_ptr<adapters::sqlite::Database> raw(const std::string& path) {
  auto db = adapters::sqlite::Database::open(path, "open raw");
  REQUIRE(db.has_value());
  return *db;
}

std::vector<std::string> query_column(adapters::sqlite::Database& db, const char* sql, int column = 0) {
  auto stmt = db.prepare(sql, "query");
  REQUIRE(stmt.has_value());
  std::vector<std::string> out;
  for (;;) {
    auto row = stmt->step("query");
    REQUIRE(row.has_value());
    if (!*row) {
      return out;
    }
    out.push_back(stmt->text(column));
  }
}

using Rooms = std::set<std::string>;

}  // namespace

// Which room creations the journal records, on both engines, is
// store_pass_log_contract_test.cc; the index is SQLite's own.
TEST_CASE("sqlite store: the room creations in the journal are looked up through the partial index", "[store]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  auto store = open_store(path);
  auto run = store->begin_run("apply");
  REQUIRE(run);
  REQUIRE(store->record(JournalEntry{*run, "create room community/a", "planned", "", "", 0, {}}));
  REQUIRE(store->record(JournalEntry{*run, "set name of community/b", "ok", "", "", 1, {}}));
  CHECK(store->journaled_room_creations() == Rooms{"community/a"});

  // The lookup goes through the partial index, so it does not read the
  // whole journal (every operation of every apply) on each pass.
  auto db = raw(path);
  std::vector<std::string> plan =
      query_column(*db, "EXPLAIN QUERY PLAN SELECT DISTINCT operation FROM journal WHERE operation LIKE 'create room %'",
                   3);
  INFO(Catch::Detail::stringify(plan));
  REQUIRE_FALSE(plan.empty());
  CHECK(plan.front().find("journal_room_creations") != std::string::npos);
}

TEST_CASE("sqlite store: a version 4 store is migrated to the current version and keeps its journal", "[store]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "v4.db").string();
  {
    auto store = open_store(path);
    auto run = store->begin_run("apply");
    REQUIRE(run);
    REQUIRE(store->record(JournalEntry{*run, "create room community/a", "ok", "", "", 1, {}}));
    REQUIRE(store->set_room_id("community/a", "!a:x"));
  }
  // As a version 4 build left it.
  REQUIRE(raw(path)
              ->exec("ALTER TABLE room_snapshots DROP COLUMN digest; DROP TABLE room_reads; DROP TABLE compiled_desired; DROP TABLE converged_verdict; DROP TABLE appservice_transactions; ALTER TABLE meta DROP COLUMN probe_key; ALTER TABLE meta DROP COLUMN probe_answer; ALTER TABLE meta DROP COLUMN probe_taken_at; DROP TABLE rooms_written; DROP INDEX journal_room_creations; ALTER TABLE lock DROP COLUMN lock_id; "
                     "ALTER TABLE lock DROP COLUMN renewed_at; ALTER TABLE lock DROP COLUMN lease_ms; "
                     "PRAGMA application_id = 0; PRAGMA user_version = 4",
                     "downgrade")
              .has_value());
  CHECK(query_column(*raw(path), "PRAGMA user_version") == std::vector<std::string>{"4"});

  auto store = open_store(path);
  CHECK(query_column(*raw(path), "PRAGMA user_version") ==
        std::vector<std::string>{std::to_string(SqliteStateStore::k_schema_version)});
  CHECK(store->rooms_written() == Rooms{});
  CHECK(store->journaled_room_creations() == Rooms{"community/a"});
  CHECK(store->room_ids() == std::map<std::string, std::string>{{"community/a", "!a:x"}});
  REQUIRE(store->mark_room_written("!a:x"));
  CHECK(store->rooms_written() == Rooms{"!a:x"});
}

}  // namespace sqlite_observation_hints_test
