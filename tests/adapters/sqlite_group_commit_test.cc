// Group commit in the SQLite store where it is SQLite's own: the group is a
// write transaction, so it waits for another connection's write lock within
// the busy timeout like any write. What group commit means on every engine
// is store_group_commit_contract_test.cc.

#include <catch2/catch.hpp>

#include "adapters/store/sqlite_db.h"
#include "adapters/store/sqlite_state_store.h"
#include "tests/support/temp_dir.h"

namespace sqlite_group_commit_test {

using adapters::GroupCommit;
using adapters::JournalEntry;
using adapters::SqliteStateStore;
using std::chrono::milliseconds;

TEST_CASE("sqlite store: a group waits for another connection's write lock like any write", "[store][group]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  auto opened = SqliteStateStore::open(path, milliseconds(50));
  REQUIRE(opened);
  auto& store = *opened;
  auto run = store->begin_run("apply");
  REQUIRE(run);
  // Never due by age within the test: only an explicit commit.
  REQUIRE(store->set_group_commit(GroupCommit{1000, std::chrono::hours(1)}));
  auto writer = adapters::sqlite::Database::open(path, "open raw");
  REQUIRE(writer);
  REQUIRE((*writer)->exec("BEGIN IMMEDIATE", "begin"));
  auto recorded = store->record(JournalEntry{*run, "a", "ok", "", "", 1, {}});
  REQUIRE_FALSE(recorded);
  CHECK(recorded.error().kind == model::Error::Kind::transient);
  REQUIRE((*writer)->exec("ROLLBACK", "rollback"));
  REQUIRE(store->record(JournalEntry{*run, "a", "ok", "", "", 1, {}}));
  REQUIRE(store->flush());
  auto rows = (*writer)->query_int64("SELECT count(*) FROM journal", "query");
  REQUIRE(rows);
  CHECK(*rows == 1);
}

}  // namespace sqlite_group_commit_test
