// The state store's records that steer the next observation: the rooms
// mxctl wrote to (re-read in full), and the room creations its journal
// records (waited for when their marker is not readable yet); and the
// migration that brought them (schema version 5).

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

TEST_CASE("sqlite store: rooms written are kept until cleared, and survive reopening", "[store]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  {
    auto store = open_store(path);
    CHECK(store->rooms_written() == Rooms{});
    const std::int64_t serial = *store->serial();
    REQUIRE(store->mark_room_written("!a:x"));
    REQUIRE(store->mark_room_written("!b:x"));
    REQUIRE(store->mark_room_written("!a:x"));
    CHECK(store->rooms_written() == Rooms{"!a:x", "!b:x"});
    // A hint for observation, like the snapshots: no change a saved plan must notice.
    CHECK(*store->serial() == serial);
  }
  auto store = open_store(path);
  CHECK(store->rooms_written() == Rooms{"!a:x", "!b:x"});

  SECTION("clearing forgets exactly the rooms given") {
    REQUIRE(store->clear_rooms_written({"!a:x", "!unknown:x"}));
    CHECK(store->rooms_written() == Rooms{"!b:x"});
    REQUIRE(store->clear_rooms_written({}));
    CHECK(store->rooms_written() == Rooms{"!b:x"});
  }
  SECTION("a room written again after it was cleared is recorded again") {
    REQUIRE(store->clear_rooms_written({"!a:x", "!b:x"}));
    REQUIRE(store->mark_room_written("!a:x"));
    CHECK(store->rooms_written() == Rooms{"!a:x"});
  }
}

TEST_CASE("sqlite store: a room written is a grouped write, committed with the group", "[store]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  auto store = open_store(path);
  auto other = open_store(path);
  REQUIRE(store->set_group_commit(adapters::GroupCommit{1000, std::chrono::hours(1)}));
  REQUIRE(store->mark_room_written("!a:x"));
  CHECK(store->rooms_written() == Rooms{"!a:x"});
  CHECK(other->rooms_written() == Rooms{});
  REQUIRE(store->flush());
  CHECK(other->rooms_written() == Rooms{"!a:x"});
  // Clearing commits what is pending first, then clears in its own transaction.
  REQUIRE(store->mark_room_written("!b:x"));
  REQUIRE(store->clear_rooms_written({"!a:x"}));
  CHECK(other->rooms_written() == Rooms{"!b:x"});
  REQUIRE(store->set_group_commit(std::nullopt));
}

TEST_CASE("sqlite store: room creations are read from every run's journal, whatever their result", "[store]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  auto store = open_store(path);
  CHECK(store->journaled_room_creations() == Rooms{});
  auto first = store->begin_run("apply");
  auto second = store->begin_run("apply");
  REQUIRE(first);
  REQUIRE(second);
  REQUIRE(store->record(JournalEntry{*first, "create room community/a", "planned", "", "", 0, {}}));
  REQUIRE(store->record(JournalEntry{*first, "create account alice", "ok", "", "", 1, {}}));
  REQUIRE(store->record(JournalEntry{*first, "set name of community/b", "ok", "", "", 1, {}}));
  REQUIRE(store->record(JournalEntry{*second, "create room council/c", "failed", "M_UNKNOWN", "x", 1, {}}));
  REQUIRE(store->record(JournalEntry{*second, "create room community/a", "ok", "", "", 1, {}}));
  REQUIRE(store->record(JournalEntry{*second, "Create Room shouted", "ok", "", "", 1, {}}));
  CHECK(store->journaled_room_creations() == Rooms{"community/a", "council/c"});

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
