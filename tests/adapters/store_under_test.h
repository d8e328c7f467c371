#pragma once
// A state store of one engine for the store's contract tests: a fresh one
// (an SQLite file in a directory of its own, or a new database on the
// shared PostgreSQL server), opened as often as a test likes, each opening
// a connection of its own to the same store. Header-only because it needs
// the store library, which tests/support's library does not link.

#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "adapters/appservice_transactions.h"
#include "adapters/postgres/postgres_connection.h"
#include "adapters/state_store.h"
#include "adapters/store/postgres_state_store.h"
#include "adapters/store/sqlite_db.h"
#include "adapters/store/sqlite_state_store.h"
#include "tests/support/postgres_server.h"
#include "tests/support/store_engines.h"
#include "tests/support/temp_dir.h"

namespace testing_support {

class StoreUnderTest {
 public:
  /// Makes the store's place: nothing is opened yet.
  explicit StoreUnderTest(StoreEngine which) : m_engine(which) {
    if (which == StoreEngine::sqlite) {
      m_dir.emplace();
      m_where = (m_dir->path() / "mxctl.db").string();
      return;
    }
    PostgresServer* server = shared_postgres_server();
    REQUIRE(server != nullptr);
    const std::string name = fresh_database_name();
    server->create_database(name);
    m_where = server->uri(name);
  }

  StoreEngine engine() const { return m_engine; }
  bool is_sqlite() const { return m_engine == StoreEngine::sqlite; }
  std::string name() const { return store_engine_name(m_engine); }

  /// Opens the store on a connection of its own (creating it the first time).
  model::Result<std::unique_ptr<adapters::StateStore>> try_open() const {
    if (is_sqlite()) {
      auto store = adapters::SqliteStateStore::open(m_where);
      if (!store) {
        return tl::unexpected(store.error());
      }
      return std::unique_ptr<adapters::StateStore>(std::move(*store));
    }
    auto store = adapters::PostgresStateStore::open(m_where);
    if (!store) {
      return tl::unexpected(store.error());
    }
    return std::unique_ptr<adapters::StateStore>(std::move(*store));
  }

  /// try_open(), which must succeed.
  std::unique_ptr<adapters::StateStore> open() const {
    auto store = try_open();
    INFO(name() << ": " << (store ? std::string() : store.error().message));
    REQUIRE(store);
    return std::move(*store);
  }

  /// Closes `store` (committing what it has pending) and opens the same
  /// store again, as the next process would.
  void reopen(std::unique_ptr<adapters::StateStore>& store) const {
    store.reset();
    store = open();
  }

  /// The record of appservice transactions the listener's threads use, on
  /// a connection of its own, as the application-service listener opens it
  /// (open_transaction_log: the file, or another session of the database).
  std::unique_ptr<adapters::AppserviceTransactions> open_transaction_log() const {
    auto log = adapters::open_transaction_log(m_where);
    INFO(name() << ": " << (log ? std::string() : log.error().message));
    REQUIRE(log);
    return std::move(*log);
  }

  /// Runs `sql` (this engine's dialect) on a raw connection of its own:
  /// for tests that make the store fail where no interface call can.
  void execute(const std::string& sql) const {
    if (is_sqlite()) {
      auto db = adapters::sqlite::Database::open(m_where, "open raw");
      REQUIRE(db);
      auto ran = (*db)->exec(sql.c_str(), "run raw sql");
      INFO((ran ? std::string() : ran.error().message));
      REQUIRE(ran);
      return;
    }
    auto db = adapters::postgres::Connection::open(m_where, "mxctl store contract test");
    REQUIRE(db);
    auto ran = (*db)->execute("run raw sql", sql);
    INFO((ran ? std::string() : ran.error().message));
    REQUIRE(ran);
  }

 private:
  StoreEngine m_engine;
  std::optional<TempDir> m_dir;
  // The SQLite file's path, or the PostgreSQL database's postgresql:// URI.
  std::string m_where;
};

/// Runs `body` with a fresh StoreUnderTest of each engine, in a section
/// named after the engine so that each is reported on its own.
template <typename Body>
void for_each_store_engine(Body&& body) {
  for (StoreEngine engine : store_engines()) {
    DYNAMIC_SECTION(store_engine_name(engine)) {
      StoreUnderTest store(engine);
      body(store);
    }
  }
}

}  // namespace testing_support
