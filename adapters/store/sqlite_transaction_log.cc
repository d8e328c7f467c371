// The application-service transactions seen (appservice_transactions.h):
// on the store's own connection for SqliteStateStore, and on a connection
// of its own for the listener's threads.

#include <chrono>
#include <deque>
#include <mutex>
#include <set>

#include "adapters/appservice_transactions.h"
#include "adapters/store/postgres_state_store.h"
#include "adapters/store/sqlite_db.h"
#include "adapters/store/sqlite_schema.h"
#include "adapters/store/sqlite_state_store.h"

namespace adapters {

namespace {

// Inserts `txn_id` unless present and forgets all but the newest k_kept, in
// one transaction; whether it was new.
model::Result<bool> record_on(sqlite::Database& db, const std::string& txn_id) {
  const std::string doing = "record appservice transaction " + txn_id;
  auto txn = sqlite::Transaction::begin(db, doing);
  if (!txn) {
    return tl::unexpected(txn.error());
  }
  auto insert = db.cached("INSERT INTO appservice_transactions (txn_id, received_at) VALUES (?1, ?2) "
                          "ON CONFLICT (txn_id) DO NOTHING",
                          doing);
  if (!insert) {
    return tl::unexpected(insert.error());
  }
  insert->bind_text(1, txn_id).bind_text(2, format_store_time(std::chrono::system_clock::now()));
  auto inserted = insert->run(doing);
  if (!inserted) {
    return tl::unexpected(inserted.error());
  }
  if (*inserted > 0) {
    auto pruned = sqlite::run_statement(
        db, "DELETE FROM appservice_transactions WHERE id <= (SELECT max(id) FROM appservice_transactions) - ?1",
        doing, [](sqlite::Statement& stmt) { stmt.bind_int64(1, AppserviceTransactions::k_kept); });
    if (!pruned) {
      return tl::unexpected(pruned.error());
    }
  }
  if (auto committed = txn->commit(doing); !committed) {
    return tl::unexpected(committed.error());
  }
  return *inserted > 0;
}

// The listener's record: its own connection, one request at a time.
class SqliteTransactionLog final : public AppserviceTransactions {
 public:
  explicit SqliteTransactionLog(std::shared_ptr<sqlite::Database> db) : m_db(std::move(db)) {}

  model::Result<bool> record_transaction(const std::string& txn_id) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    return record_on(*m_db, txn_id);
  }

 private:
  std::mutex m_mutex;
  std::shared_ptr<sqlite::Database> m_db;
};

// A test's store in memory cannot be shared between connections.
class MemoryTransactionLog final : public AppserviceTransactions {
 public:
  model::Result<bool> record_transaction(const std::string& txn_id) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (!m_ids.insert(txn_id).second) {
      return false;
    }
    m_order.push_back(txn_id);
    while (m_order.size() > static_cast<std::size_t>(k_kept)) {
      m_ids.erase(m_order.front());
      m_order.pop_front();
    }
    return true;
  }

 private:
  std::mutex m_mutex;
  std::set<std::string> m_ids;
  std::deque<std::string> m_order;
};

}  // namespace

model::Result<bool> SqliteStateStore::record_transaction(const std::string& txn_id) {
  // Committed with whatever the group holds, before the homeserver is told.
  if (auto flushed = flush(); !flushed) {
    return tl::unexpected(flushed.error());
  }
  return record_on(*m_db, txn_id);
}

model::Result<std::unique_ptr<AppserviceTransactions>> open_transaction_log(const std::string& path) {
  if (path == ":memory:") {
    return std::make_unique<MemoryTransactionLog>();
  }
  if (is_postgres_store(path)) {
    return open_postgres_transaction_log(path);
  }
  auto db = sqlite::Database::open(path, "open the state store for appservice transactions", SQLITE_OPEN_READWRITE);
  if (!db) {
    return tl::unexpected(db.error());
  }
  // The pass's group commit holds the write lock for up to its max_age.
  sqlite3_busy_timeout((*db)->handle(), static_cast<int>(SqliteStateStore::k_default_busy_timeout.count()));
  return std::make_unique<SqliteTransactionLog>(std::move(*db));
}

}  // namespace adapters
