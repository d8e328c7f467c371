// The app database's change fingerprint against real SQLite files and the
// real PostgreSQL server: a write committed by another connection or
// process changes it, reads and the passing of time do not, and a SQLite
// file replaced under the open connection is never taken as unchanged.

#include "adapters/appdb/app_database_changes.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "adapters/appdb/app_database.h"
#include "adapters/appdb/desired_source.h"
#include "tests/support/app_databases.h"

namespace app_database_changes_test {

namespace {

using testing_support::app_databases;
using testing_support::execute_sql;
using testing_support::TempDir;
using testing_support::TestDatabase;

const std::string k_policies = std::string(MXCTL_SOURCE_DIR) + "/manifests/policies.yaml";

std::string sqlite_path(const TestDatabase& db) { return db.uri.substr(std::string("sqlite://").size()); }

// Runs `sql` in the sqlite3 command-line shell: another process.
void sqlite_shell(const std::string& path, const std::string& sql) {
  REQUIRE(std::system(("sqlite3 '" + path + "' \"" + sql + "\" > /dev/null").c_str()) == 0);
}

}  // namespace

TEST_CASE("app database changes: a write by another connection changes the fingerprint, reads do not",
          "[app_database][changes]") {
  TempDir dir;
  for (const TestDatabase& db : app_databases(dir)) {
    INFO(db.engine);
    adapters::AppDatabaseChanges changes(db.uri);
    const std::string first = changes.fingerprint();
    REQUIRE_FALSE(first.empty());
    CHECK(changes.fingerprint() == first);
    // A full load reads every table on connections of its own.
    adapters::LoadedDesired loaded = adapters::load_desired({k_policies}, db.uri, {});
    REQUIRE(loaded.diagnostics.empty());
    CHECK(changes.fingerprint() == first);

    execute_sql(db.uri, "UPDATE communities SET name = 'Renamed' WHERE slug = 'riverside';");
    const std::string second = changes.fingerprint();
    CHECK_FALSE(second.empty());
    CHECK(second != first);
    CHECK(changes.fingerprint() == second);
  }
}

TEST_CASE("app database changes: a SQLite write by another process changes the fingerprint, in either journal mode",
          "[app_database][changes]") {
  TempDir dir;
  const TestDatabase db = app_databases(dir, true).front();
  REQUIRE(db.engine == "sqlite");
  const std::string path = sqlite_path(db);
  const bool wal = GENERATE(false, true);
  INFO((wal ? "WAL" : "rollback journal"));
  if (wal) {
    sqlite_shell(path, "PRAGMA journal_mode = WAL;");
  }
  adapters::AppDatabaseChanges changes(db.uri);
  const std::string before = changes.fingerprint();
  REQUIRE_FALSE(before.empty());
  sqlite_shell(path, "SELECT count(*) FROM app_users;");
  CHECK(changes.fingerprint() == before);
  sqlite_shell(path, "UPDATE app_users SET display_name = 'Changed' WHERE id = (SELECT min(id) FROM app_users);");
  const std::string after = changes.fingerprint();
  CHECK_FALSE(after.empty());
  CHECK(after != before);
  CHECK(changes.fingerprint() == after);
}

TEST_CASE("app database changes: a SQLite file replaced under the connection is a change, and later writes still are",
          "[app_database][changes]") {
  TempDir dir;
  const TestDatabase db = app_databases(dir, true).front();
  const std::string path = sqlite_path(db);
  adapters::AppDatabaseChanges changes(db.uri);
  const std::string before = changes.fingerprint();
  REQUIRE_FALSE(before.empty());

  // A restore: a copy written beside it and renamed over it. In WAL mode,
  // so that later writes leave the file itself alone: only a connection to
  // the new file sees them.
  const std::string copy = path + ".restored";
  std::filesystem::copy_file(path, copy);
  sqlite_shell(copy, "PRAGMA journal_mode = WAL;");
  sqlite_shell(copy, "UPDATE app_users SET display_name = 'Restored' WHERE id = (SELECT min(id) FROM app_users);");
  std::filesystem::rename(copy, path);
  const std::string replaced = changes.fingerprint();
  CHECK(replaced != before);
  // The next look reads the new file on a new connection.
  const std::string reopened = changes.fingerprint();
  REQUIRE_FALSE(reopened.empty());
  CHECK(reopened != before);
  CHECK(changes.fingerprint() == reopened);
  // Another reader keeps the write in the WAL (the writer's close does not
  // checkpoint it into the file).
  auto reader = adapters::open_app_database(db.uri, false);
  REQUIRE(reader);
  sqlite_shell(path, "UPDATE app_users SET display_name = 'Later' WHERE id = (SELECT min(id) FROM app_users);");
  CHECK(changes.fingerprint() != reopened);
}

TEST_CASE("app database changes: no fingerprint for a database that cannot be reached", "[app_database][changes]") {
  TempDir dir;
  adapters::AppDatabaseChanges missing("sqlite://" + (dir.path() / "absent.db").string());
  CHECK(missing.fingerprint().empty());
  adapters::AppDatabaseChanges unreachable("postgresql:///nowhere?host=/nonexistent");
  CHECK(unreachable.fingerprint().empty());
}

TEST_CASE("app database changes: a PostgreSQL write in another database of the cluster at most costs a load",
          "[app_database][changes]") {
  testing_support::PostgresServer* server = testing_support::shared_postgres_server();
  if (server == nullptr) {
    return;
  }
  TempDir dir;
  const TestDatabase db = app_databases(dir, true).back();
  REQUIRE(db.engine == "postgresql");
  const std::string other = testing_support::fresh_database_name();
  server->create_database(other);
  execute_sql(server->uri(other), "CREATE TABLE t (x integer);");

  adapters::AppDatabaseChanges changes(db.uri);
  const std::string before = changes.fingerprint();
  REQUIRE_FALSE(before.empty());
  // Reads, and transactions that write nothing, leave it as it was.
  execute_sql(server->uri(other), "SELECT count(*) FROM t;");
  execute_sql(db.uri, "BEGIN; SELECT count(*) FROM app_users; COMMIT;");
  CHECK(changes.fingerprint() == before);
  // Another database's write is not told apart: a false change, never a
  // missed one.
  execute_sql(server->uri(other), "INSERT INTO t VALUES (1);");
  const std::string after = changes.fingerprint();
  CHECK_FALSE(after.empty());
  CHECK(after != before);
}

}  // namespace app_database_changes_test
