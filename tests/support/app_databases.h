#pragma once
// App databases for the tests of the database source: the same scenario runs
// against a SQLite file and a PostgreSQL database (tests/support/
// postgres_server.h), both created from manifests/app-schema.sql and, by
// default, manifests/app-sample.sql. Header-only: it uses the adapters,
// which the test_support library does not link.

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "adapters/appdb/app_database.h"
#include "tests/support/postgres_server.h"
#include "tests/support/temp_dir.h"

namespace testing_support {

struct TestDatabase {
  std::string engine;  ///< "sqlite" or "postgresql", for INFO
  std::string uri;
};

inline std::string read_source_file(const std::string& relative) {
  std::ifstream in(std::string(MXCTL_SOURCE_DIR) + "/" + relative);
  std::stringstream text;
  text << in.rdbuf();
  REQUIRE(!text.str().empty());
  return text.str();
}

/// Runs `sql` (one or several statements) on `uri`; REQUIREs success.
inline void execute_sql(const std::string& uri, const std::string& sql) {
  auto db = adapters::open_app_database(uri, true);
  INFO(uri);
  REQUIRE(db);
  auto done = (*db)->execute_script(sql);
  INFO((done ? "" : done.error().message));
  REQUIRE(done);
}

/// One row-set query on `uri`, values as text ("" for NULL).
inline std::vector<std::vector<std::string>> query_sql(const std::string& uri, const std::string& sql) {
  auto db = adapters::open_app_database(uri, false);
  REQUIRE(db);
  auto rows = (*db)->query(sql);
  INFO((rows ? "" : rows.error().message));
  REQUIRE(rows);
  std::vector<std::vector<std::string>> out;
  for (const auto& row : rows->rows) {
    std::vector<std::string> values;
    for (const auto& value : row) {
      values.push_back(value.is_null() ? "" : value.text);
    }
    out.push_back(values);
  }
  return out;
}

/// A fresh database per available engine (SQLite always; PostgreSQL when
/// installed, else a WARN, or a FAIL under CI), with the shipped schema and,
/// when `sample`, the shipped sample data. SQLite files go into `dir`.
inline std::vector<TestDatabase> app_databases(const TempDir& dir, bool sample = true) {
  std::string schema = read_source_file("manifests/app-schema.sql");
  std::string data = sample ? read_source_file("manifests/app-sample.sql") : "";
  std::vector<TestDatabase> out;
  std::string name = fresh_database_name();
  std::string path = (dir.path() / (name + ".db")).string();
  std::ofstream(path).close();
  out.push_back({"sqlite", "sqlite://" + path});
  if (PostgresServer* server = shared_postgres_server()) {
    server->create_database(name);
    out.push_back({"postgresql", server->uri(name)});
  }
  for (const TestDatabase& db : out) {
    execute_sql(db.uri, schema + "\n" + data);
  }
  return out;
}

}  // namespace testing_support
