// The core of SqliteStateStore: its connection, group commit (one open
// transaction that the grouped writes of every role join) and the serial.
// Each role's methods are in a file of their own (sqlite_observation_store,
// sqlite_pass_log, sqlite_lifecycle_store, sqlite_store_lock).

#include "adapters/store/sqlite_state_store.h"

#include <optional>

#include "adapters/store/sqlite_db.h"
#include "adapters/store/sqlite_schema.h"

namespace adapters {

namespace {

using Clock = std::chrono::system_clock;

// Between calls the only transaction a store's connection can have open is
// its group (every other one is begun and ended within a call).
bool group_open(sqlite::Database& db) { return sqlite3_get_autocommit(db.handle()) == 0; }

std::string lost(int writes) {
  return " (" + std::to_string(writes) + (writes == 1 ? " grouped write" : " grouped writes") + " lost)";
}

}  // namespace

SqliteStateStore::SqliteStateStore(std::shared_ptr<sqlite::Database> db, std::string path, SqliteStoreOptions options)
    : m_db(std::move(db)), m_path(std::move(path)), m_options(std::move(options)) {}

std::chrono::system_clock::time_point SqliteStateStore::now() const {
  return m_options.clock ? m_options.clock() : Clock::now();
}

SqliteStateStore::~SqliteStateStore() { (void)flush(); }

model::Result<void> SqliteStateStore::set_group_commit(std::optional<GroupCommit> policy) {
  auto flushed = flush();
  m_group = policy;
  return flushed;
}

model::Result<void> SqliteStateStore::flush() {
  const int writes = std::exchange(m_group_writes, 0);
  if (!group_open(*m_db)) {
    return {};
  }
  auto committed = m_db->exec("COMMIT", "commit grouped writes");
  if (!committed) {
    // A failed COMMIT may leave the transaction open; ending it here keeps
    // the next call from writing into a group that can never commit.
    sqlite3_exec(m_db->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    committed.error().message += lost(writes);
  }
  return committed;
}

model::Result<void> SqliteStateStore::flush_if_due() {
  if (!group_open(*m_db)) {
    return {};
  }
  if (m_group && m_group_writes < m_group->max_writes &&
      std::chrono::steady_clock::now() - m_group_started < m_group->max_age) {
    return {};
  }
  return flush();
}

model::Result<void> SqliteStateStore::grouped(std::string_view doing,
                                              const std::function<model::Result<void>()>& write) {
  if (!m_group) {
    return write();
  }
  if (!group_open(*m_db)) {
    if (auto begun = m_db->exec("BEGIN IMMEDIATE", doing); !begun) {
      return begun;
    }
    m_group_writes = 0;
    m_group_started = std::chrono::steady_clock::now();
  }
  auto written = write();
  if (!written && !group_open(*m_db)) {
    // Some errors (I/O, a full disk) make SQLite roll back the whole
    // transaction, taking the group's earlier writes with it.
    written.error().message += lost(std::exchange(m_group_writes, 0));
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

model::Result<void> SqliteStateStore::durable(std::string_view doing,
                                              const std::function<model::Result<void>()>& write) {
  auto written = grouped(doing, write);
  auto flushed = flush();
  return written ? flushed : written;
}

model::Result<std::int64_t> SqliteStateStore::serial() {
  return m_db->query_int64("SELECT serial FROM meta WHERE id = 1", "read serial");
}

}  // namespace adapters
