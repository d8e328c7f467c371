// The core of PostgresStateStore: opening, the statement helper, group
// commit (one open transaction that the grouped writes of every role join,
// each in a savepoint) and the serial. Each role's methods are in a file of
// their own (postgres_observation_store, postgres_pass_log,
// postgres_lifecycle_store, postgres_kept, postgres_store_lock).

#include "adapters/store/postgres_state_store.h"


#include "adapters/store/postgres_schema.h"

namespace adapters {

namespace {

std::string writes_lost(int writes) {
  return " (" + std::to_string(writes) + (writes == 1 ? " grouped write" : " grouped writes") + " lost)";
}

}  // namespace

model::Result<std::unique_ptr<PostgresStateStore>> PostgresStateStore::open(const std::string& conninfo,
                                                                            const PostgresStoreOptions& options) {
  auto connection = postgres::Connection::open(conninfo, "mxctl state store", options.timeouts);
  if (!connection) {
    return tl::unexpected(connection.error());
  }
  auto migrated = postgres_store::migrate(**connection);
  if (!migrated) {
    return tl::unexpected(migrated.error());
  }
  auto session = std::make_shared<PostgresSession>();
  session->connection = std::move(*connection);
  return std::unique_ptr<PostgresStateStore>(new PostgresStateStore(std::move(session), options, migrated->created));
}

PostgresStateStore::PostgresStateStore(std::shared_ptr<PostgresSession> session, PostgresStoreOptions options,
                                       bool created)
    : m_session(std::move(session)), m_options(std::move(options)), m_created(created) {}

PostgresStateStore::~PostgresStateStore() {
  std::lock_guard guard(m_session->mutex);
  (void)flush_locked();
}

std::chrono::system_clock::time_point PostgresStateStore::now() const {
  return m_options.clock ? m_options.clock() : std::chrono::system_clock::now();
}

model::Result<postgres::Rows> PostgresStateStore::query(std::string_view doing, const std::string& sql,
                                                        const std::vector<postgres::Value>& params) {
  return db().query(doing, sql, params);
}

model::Result<void> PostgresStateStore::set_group_commit(std::optional<GroupCommit> policy) {
  std::lock_guard guard(m_session->mutex);
  auto flushed = flush_locked();
  m_group = policy;
  return flushed;
}

model::Result<void> PostgresStateStore::flush() {
  std::lock_guard guard(m_session->mutex);
  return flush_locked();
}

model::Result<void> PostgresStateStore::flush_locked() {
  const int writes = std::exchange(m_group_writes, 0);
  if (!db().in_transaction()) {
    return {};
  }
  auto committed = db().execute("commit grouped writes", "COMMIT");
  if (!committed) {
    // A failed COMMIT ends the transaction on the server (or the session
    // is gone): either way nothing of the group was kept.
    (void)db().execute("end the failed group", "ROLLBACK");
    committed.error().message += writes_lost(writes);
  }
  return committed;
}

model::Result<void> PostgresStateStore::flush_if_due() {
  if (!db().in_transaction()) {
    return {};
  }
  if (m_group && m_group_writes < m_group->max_writes &&
      std::chrono::steady_clock::now() - m_group_started < m_group->max_age) {
    return {};
  }
  return flush_locked();
}

model::Result<void> PostgresStateStore::atomically(std::string_view doing,
                                                   const std::function<model::Result<void>()>& write) {
  const bool nested = db().in_transaction();
  if (auto begun = db().execute(doing, nested ? "SAVEPOINT mxctl_write" : "BEGIN"); !begun) {
    return begun;
  }
  auto written = write();
  if (written) {
    auto ended = db().execute(doing, nested ? "RELEASE SAVEPOINT mxctl_write" : "COMMIT");
    if (ended || !nested) {
      return ended;
    }
    written = tl::unexpected(ended.error());
  }
  // Undo this write alone; a group's earlier writes stay.
  (void)db().execute(doing, nested ? "ROLLBACK TO SAVEPOINT mxctl_write; RELEASE SAVEPOINT mxctl_write" : "ROLLBACK");
  return written;
}

model::Result<void> PostgresStateStore::grouped(std::string_view doing,
                                                const std::function<model::Result<void>()>& write) {
  if (!m_group) {
    return atomically(doing, write);
  }
  if (!db().in_transaction()) {
    if (auto begun = db().execute(doing, "BEGIN"); !begun) {
      return begun;
    }
    m_group_writes = 0;
    m_group_started = std::chrono::steady_clock::now();
  }
  auto written = atomically(doing, write);
  if (!written && !db().in_transaction()) {
    // The session is gone, and the open transaction with it.
    written.error().message += writes_lost(std::exchange(m_group_writes, 0));
    return written;
  }
  if (written) {
    ++m_group_writes;
  }
  if (auto due = flush_if_due(); !due) {
    return due;
  }
  return written;
}

model::Result<void> PostgresStateStore::durable(std::string_view doing,
                                                const std::function<model::Result<void>()>& write) {
  if (!db().in_transaction()) {
    return atomically(doing, write);
  }
  auto written = atomically(doing, write);
  if (written) {
    ++m_group_writes;
  }
  auto flushed = flush_locked();
  return written ? flushed : written;
}

model::Result<std::int64_t> PostgresStateStore::serial() {
  std::lock_guard guard(m_session->mutex);
  auto rows = query("read serial", "SELECT serial FROM mxctl.meta WHERE id = 1");
  if (!rows) {
    return tl::unexpected(rows.error());
  }
  if (rows->rows.size() == 1) {
    if (auto serial = postgres::integer_value<std::int64_t>(rows->rows[0].at(0))) {
      return *serial;
    }
  }
  return model::fail(model::Error::Kind::invalid, "cannot read serial: mxctl.meta holds none; the store is damaged");
}

}  // namespace adapters
