#include "adapters/store/sqlite_state_store.h"

#include <optional>

#include "adapters/store/sqlite_db.h"
#include "adapters/store/sqlite_schema.h"

namespace adapters {

namespace {

using Clock = std::chrono::system_clock;

std::string now_text() { return format_store_time(Clock::now()); }

model::Result<void> fail_with(const model::Error& error) { return tl::unexpected(error); }

// Between calls the only transaction a store's connection can have open is
// its group (every other one is begun and ended within a call).
bool group_open(sqlite::Database& db) { return sqlite3_get_autocommit(db.handle()) == 0; }

std::string lost(int writes) {
  return " (" + std::to_string(writes) + (writes == 1 ? " grouped write" : " grouped writes") + " lost)";
}

// Runs a statement whose row count does not matter.
model::Result<void> run_only(sqlite::Statement& stmt, std::string_view doing) {
  auto ran = stmt.run(doing);
  if (!ran) {
    return fail_with(ran.error());
  }
  return {};
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

model::Result<std::map<std::string, std::string>> SqliteStateStore::room_ids() {
  const char* doing = "read room ids";
  auto stmt = m_db->cached("SELECT key, room_id FROM rooms", doing);
  if (!stmt) {
    return tl::unexpected(stmt.error());
  }
  std::map<std::string, std::string> rooms;
  for (;;) {
    auto row = stmt->step(doing);
    if (!row) {
      return tl::unexpected(row.error());
    }
    if (!*row) {
      return rooms;
    }
    rooms.emplace(stmt->text(0), stmt->text(1));
  }
}

model::Result<void> SqliteStateStore::set_room_id(const std::string& key, const std::string& room_id) {
  const std::string doing = "record room id for " + key;
  return grouped(doing, [&]() -> model::Result<void> {
    // The WHERE makes re-recording the same id a no-op, so a converged pass
    // neither writes nor moves the serial.
    auto stmt = m_db->cached(
        "INSERT INTO rooms (key, room_id, updated_at) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (key) DO UPDATE SET room_id = excluded.room_id, updated_at = excluded.updated_at "
        "WHERE rooms.room_id IS NOT excluded.room_id",
        doing);
    if (!stmt) {
      return fail_with(stmt.error());
    }
    stmt->bind_text(1, key).bind_text(2, room_id).bind_text(3, now_text());
    return run_only(*stmt, doing);
  });
}

model::Result<void> SqliteStateStore::forget_room(const std::string& key) {
  if (auto flushed = flush(); !flushed) {
    return flushed;
  }
  const std::string doing = "forget room " + key;
  auto txn = sqlite::Transaction::begin(*m_db, doing);
  if (!txn) {
    return fail_with(txn.error());
  }
  for (const char* sql : {"DELETE FROM rooms WHERE key = ?1", "DELETE FROM messages_sent WHERE key = ?1",
                          "DELETE FROM directs_set WHERE room_key = ?1"}) {
    auto stmt = m_db->cached(sql, doing);
    if (!stmt) {
      return fail_with(stmt.error());
    }
    stmt->bind_text(1, key);
    if (auto ran = run_only(*stmt, doing); !ran) {
      return ran;
    }
  }
  return txn->commit(doing);
}

model::Result<std::set<std::string>> SqliteStateStore::messages_sent() {
  const char* doing = "read sent messages";
  auto stmt = m_db->cached("SELECT key FROM messages_sent", doing);
  if (!stmt) {
    return tl::unexpected(stmt.error());
  }
  std::set<std::string> keys;
  for (;;) {
    auto row = stmt->step(doing);
    if (!row) {
      return tl::unexpected(row.error());
    }
    if (!*row) {
      return keys;
    }
    keys.insert(stmt->text(0));
  }
}

model::Result<void> SqliteStateStore::mark_message_sent(const std::string& key) {
  const std::string doing = "record message sent to " + key;
  return grouped(doing, [&]() -> model::Result<void> {
    auto stmt = m_db->cached(
        "INSERT INTO messages_sent (key, sent_at) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING", doing);
    if (!stmt) {
      return fail_with(stmt.error());
    }
    stmt->bind_text(1, key).bind_text(2, now_text());
    return run_only(*stmt, doing);
  });
}

model::Result<std::string> SqliteStateStore::sync_token() {
  const char* doing = "read sync token";
  auto stmt = m_db->cached("SELECT sync_token FROM meta WHERE id = 1", doing);
  if (!stmt) {
    return tl::unexpected(stmt.error());
  }
  auto row = stmt->step(doing);
  if (!row) {
    return tl::unexpected(row.error());
  }
  return *row ? stmt->text(0) : std::string();
}

model::Result<void> SqliteStateStore::set_sync_token(const std::string& token) {
  if (auto flushed = flush(); !flushed) {
    return flushed;
  }
  const char* doing = "record sync token";
  auto stmt = m_db->cached("UPDATE meta SET sync_token = ?1 WHERE id = 1 AND sync_token IS NOT ?1", doing);
  if (!stmt) {
    return fail_with(stmt.error());
  }
  stmt->bind_text(1, token);
  return run_only(*stmt, doing);
}

model::Result<std::set<std::pair<std::string, std::string>>> SqliteStateStore::directs_set() {
  const char* doing = "read direct chats set";
  auto stmt = m_db->cached("SELECT room_key, user_id FROM directs_set", doing);
  if (!stmt) {
    return tl::unexpected(stmt.error());
  }
  std::set<std::pair<std::string, std::string>> pairs;
  for (;;) {
    auto row = stmt->step(doing);
    if (!row) {
      return tl::unexpected(row.error());
    }
    if (!*row) {
      return pairs;
    }
    pairs.emplace(stmt->text(0), stmt->text(1));
  }
}

model::Result<void> SqliteStateStore::mark_direct_set(const std::string& room_key, const std::string& user_id) {
  const std::string doing = "record m.direct set for " + user_id + " in " + room_key;
  return grouped(doing, [&]() -> model::Result<void> {
    auto stmt = m_db->cached(
        "INSERT INTO directs_set (room_key, user_id, set_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING", doing);
    if (!stmt) {
      return fail_with(stmt.error());
    }
    stmt->bind_text(1, room_key).bind_text(2, user_id).bind_text(3, now_text());
    return run_only(*stmt, doing);
  });
}

model::Result<std::map<std::string, std::string>> SqliteStateStore::room_snapshots() {
  const char* doing = "read room snapshots";
  auto stmt = m_db->cached("SELECT room_id, state FROM room_snapshots", doing);
  if (!stmt) {
    return tl::unexpected(stmt.error());
  }
  std::map<std::string, std::string> snapshots;
  for (;;) {
    auto row = stmt->step(doing);
    if (!row) {
      return tl::unexpected(row.error());
    }
    if (!*row) {
      return snapshots;
    }
    snapshots.emplace(stmt->text(0), stmt->text(1));
  }
}

model::Result<void> SqliteStateStore::save_observation(
    const std::string& sync_token, const std::map<std::string, std::optional<std::string>>& changed) {
  if (auto flushed = flush(); !flushed) {
    return flushed;
  }
  const char* doing = "record observation";
  auto txn = sqlite::Transaction::begin(*m_db, doing);
  if (!txn) {
    return fail_with(txn.error());
  }
  if (auto written = write_observation(sync_token, changed); !written) {
    return written;
  }
  return txn->commit(doing);
}

model::Result<void> SqliteStateStore::write_observation(
    const std::string& sync_token, const std::map<std::string, std::optional<std::string>>& changed) {
  const char* doing = "record observation";
  const std::string now = now_text();
  for (const auto& [room_id, state] : changed) {
    auto stmt = m_db->cached(state ? "INSERT INTO room_snapshots (room_id, state, updated_at) VALUES (?1, ?2, ?3) "
                                      "ON CONFLICT (room_id) DO UPDATE SET state = excluded.state, "
                                      "updated_at = excluded.updated_at"
                                    : "DELETE FROM room_snapshots WHERE room_id = ?1",
                              doing);
    if (!stmt) {
      return fail_with(stmt.error());
    }
    stmt->bind_text(1, room_id);
    if (state) {
      stmt->bind_text(2, *state).bind_text(3, now);
    }
    if (auto ran = run_only(*stmt, doing); !ran) {
      return ran;
    }
  }
  auto token = m_db->cached("UPDATE meta SET sync_token = ?1 WHERE id = 1 AND sync_token IS NOT ?1", doing);
  if (!token) {
    return fail_with(token.error());
  }
  token->bind_text(1, sync_token);
  return run_only(*token, doing);
}

model::Result<std::int64_t> SqliteStateStore::serial() {
  return m_db->query_int64("SELECT serial FROM meta WHERE id = 1", "read serial");
}

model::Result<std::int64_t> SqliteStateStore::begin_run(const std::string& command) {
  if (auto flushed = flush(); !flushed) {
    return tl::unexpected(flushed.error());
  }
  const std::string doing = "record start of " + command + " run";
  auto stmt = m_db->cached("INSERT INTO runs (command, started, outcome) VALUES (?1, ?2, 'running')", doing);
  if (!stmt) {
    return tl::unexpected(stmt.error());
  }
  stmt->bind_text(1, command).bind_text(2, now_text());
  if (auto ran = stmt->run(doing); !ran) {
    return tl::unexpected(ran.error());
  }
  return sqlite3_last_insert_rowid(m_db->handle());
}

model::Result<void> SqliteStateStore::finish_run(std::int64_t run_id, const std::string& outcome,
                                                 int changes_applied, int failures) {
  if (auto flushed = flush(); !flushed) {
    return flushed;
  }
  const std::string doing = "record end of run " + std::to_string(run_id);
  auto stmt = m_db->cached(
      "UPDATE runs SET finished = ?2, outcome = ?3, changes_applied = ?4, failures = ?5 WHERE id = ?1", doing);
  if (!stmt) {
    return fail_with(stmt.error());
  }
  stmt->bind_int64(1, run_id).bind_text(2, now_text()).bind_text(3, outcome);
  stmt->bind_int64(4, changes_applied).bind_int64(5, failures);
  auto changed = stmt->run(doing);
  if (!changed) {
    return fail_with(changed.error());
  }
  if (*changed == 0) {
    return model::fail(model::Error::Kind::not_found, "cannot " + doing + ": no such run");
  }
  return {};
}

model::Result<std::vector<RunRecord>> SqliteStateStore::runs(int limit) {
  const char* doing = "read run history";
  auto stmt = m_db->cached(
      "SELECT id, command, started, finished, outcome, changes_applied, failures FROM runs "
      "ORDER BY id DESC LIMIT ?1",
      doing);
  if (!stmt) {
    return tl::unexpected(stmt.error());
  }
  // SQLite reads a negative LIMIT as "no limit", which is the contract.
  stmt->bind_int64(1, limit);
  std::vector<RunRecord> records;
  for (;;) {
    auto row = stmt->step(doing);
    if (!row) {
      return tl::unexpected(row.error());
    }
    if (!*row) {
      return records;
    }
    RunRecord run;
    run.id = stmt->int64(0);
    run.command = stmt->text(1);
    run.started = parse_store_time(stmt->text(2));
    if (!stmt->is_null(3)) {
      run.finished = parse_store_time(stmt->text(3));
    }
    run.outcome = stmt->text(4);
    run.changes_applied = static_cast<int>(stmt->int64(5));
    run.failures = static_cast<int>(stmt->int64(6));
    records.push_back(std::move(run));
  }
}

model::Result<void> SqliteStateStore::record(const JournalEntry& entry) {
  const std::string doing = "record journal entry for run " + std::to_string(entry.run_id) + " (" + entry.operation + ")";
  return grouped(doing, [&]() -> model::Result<void> {
    auto stmt = m_db->cached(
        "INSERT INTO journal (run_id, operation, result, errcode, message, attempt, at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        doing);
    if (!stmt) {
      return fail_with(stmt.error());
    }
    const auto at = entry.at == Clock::time_point{} ? Clock::now() : entry.at;
    stmt->bind_int64(1, entry.run_id).bind_text(2, entry.operation).bind_text(3, entry.result);
    stmt->bind_text(4, entry.errcode).bind_text(5, entry.message).bind_int64(6, entry.attempt);
    stmt->bind_text(7, format_store_time(at));
    auto ran = stmt->run(doing);
    if (!ran && sqlite3_extended_errcode(m_db->handle()) == SQLITE_CONSTRAINT_FOREIGNKEY) {
      // The journal belongs to a run; a missing one is a caller bug worth naming.
      return model::fail(model::Error::Kind::not_found, "cannot " + doing + ": no such run");
    }
    if (!ran) {
      return fail_with(ran.error());
    }
    return {};
  });
}

model::Result<std::vector<JournalEntry>> SqliteStateStore::journal(std::int64_t run_id) {
  const std::string doing = "read journal of run " + std::to_string(run_id);
  auto stmt = m_db->cached(
      "SELECT run_id, operation, result, errcode, message, attempt, at FROM journal WHERE run_id = ?1 ORDER BY id",
      doing);
  if (!stmt) {
    return tl::unexpected(stmt.error());
  }
  stmt->bind_int64(1, run_id);
  std::vector<JournalEntry> entries;
  for (;;) {
    auto row = stmt->step(doing);
    if (!row) {
      return tl::unexpected(row.error());
    }
    if (!*row) {
      return entries;
    }
    JournalEntry entry;
    entry.run_id = stmt->int64(0);
    entry.operation = stmt->text(1);
    entry.result = stmt->text(2);
    entry.errcode = stmt->text(3);
    entry.message = stmt->text(4);
    entry.attempt = static_cast<int>(stmt->int64(5));
    entry.at = parse_store_time(stmt->text(6));
    entries.push_back(std::move(entry));
  }
}

}  // namespace adapters
