// The application-service transaction log on a PostgreSQL store: a session
// of its own (the store's belongs to the loop's thread), opened again when
// it ended, since a database restart would otherwise fail every pushed
// transaction until mxctl itself restarted.

#include <mutex>
#include <utility>

#include "adapters/store/postgres_state_store.h"

namespace adapters {

namespace {

class PostgresTransactionLog final : public AppserviceTransactions {
 public:
  PostgresTransactionLog(std::string where, std::unique_ptr<PostgresStateStore> store)
      : m_where(std::move(where)), m_store(std::move(store)) {}

  model::Result<bool> record_transaction(const std::string& txn_id) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    auto recorded = m_store->record_transaction(txn_id);
    if (recorded || recorded.error().kind != model::Error::Kind::transient) {
      return recorded;
    }
    // A session that ended stays ended: one new session, and this id again.
    // Had the lost session committed it, it now reads as a repeat: a notice
    // lost, which costs the loop a pass, never a change.
    auto reopened = PostgresStateStore::open(m_where);
    if (!reopened) {
      return recorded;
    }
    m_store = std::move(*reopened);
    return m_store->record_transaction(txn_id);
  }

 private:
  std::mutex m_mutex;
  std::string m_where;
  std::unique_ptr<PostgresStateStore> m_store;
};

}  // namespace

model::Result<std::unique_ptr<AppserviceTransactions>> open_postgres_transaction_log(const std::string& where) {
  auto store = PostgresStateStore::open(where);
  if (!store) {
    return tl::unexpected(store.error());
  }
  return std::unique_ptr<AppserviceTransactions>(std::make_unique<PostgresTransactionLog>(where, std::move(*store)));
}

}  // namespace adapters
