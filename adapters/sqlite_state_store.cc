#include "adapters/sqlite_state_store.h"

#include <cerrno>
#include <csignal>
#include <optional>

#include <unistd.h>

#include "adapters/sqlite_db.h"
#include "adapters/sqlite_schema.h"

namespace adapters {

namespace {

using Clock = std::chrono::system_clock;

std::string now_text() { return format_store_time(Clock::now()); }

std::string host_name() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof buffer - 1) != 0) {
    return "unknown-host";
  }
  return buffer;
}

// A pid that exists on this host, even one we may not signal (EPERM: another
// user's process), still holds the lock. A pid <= 0 cannot be a holder, and
// kill() would address a process group instead.
bool process_alive(std::int64_t pid) {
  if (pid <= 0) {
    return false;
  }
  return kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

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

// Why the pass lock cannot be taken now; nothing when it is free or its
// holder died on this host without releasing it (then it is replaced).
// Runs inside the caller's transaction, so nobody can take it in between.
model::Result<std::optional<std::string>> lock_refusal(sqlite::Database& db, const std::string& hostname) {
  const char* doing = "read the pass lock";
  auto held = db.cached("SELECT pid, hostname, command, acquired_at FROM lock WHERE id = 1", doing);
  if (!held) {
    return tl::unexpected(held.error());
  }
  auto row = held->step(doing);
  if (!row) {
    return tl::unexpected(row.error());
  }
  if (!*row) {
    return std::nullopt;
  }
  const std::int64_t holder_pid = held->int64(0);
  const std::string holder_host = held->text(1);
  // Another host's pid cannot be checked from here, so its lock stands until
  // that host's pass ends or an operator removes the row.
  if (holder_host == hostname && !process_alive(holder_pid)) {
    return std::nullopt;
  }
  return "another mxctl pass (" + held->text(2) + ", pid " + std::to_string(holder_pid) + " on " + holder_host +
         ") has held the lock since " + format_store_time(parse_store_time(held->text(3)), false);
}

// The lock row this process wrote; deleting it releases the lock. The delete
// matches the whole identity so a lock someone else took over is left alone.
class SqliteStoreLock final : public StoreLock {
 public:
  SqliteStoreLock(std::shared_ptr<sqlite::Database> db, std::int64_t pid, std::string hostname,
                  std::string acquired_at)
      : m_db(std::move(db)), m_pid(pid), m_hostname(std::move(hostname)), m_acquired_at(std::move(acquired_at)) {}

  ~SqliteStoreLock() override {
    // The pass's grouped writes are made durable before the lock goes, so
    // the next pass never starts from less than this one wrote. The only
    // transaction open between calls is the store's group.
    if (sqlite3_get_autocommit(m_db->handle()) == 0 &&
        sqlite3_exec(m_db->handle(), "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      sqlite3_exec(m_db->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
    // Errors are ignored: a row left behind names a pid that will be dead by
    // the time anyone looks, so the next pass takes it over.
    auto stmt = m_db->cached("DELETE FROM lock WHERE id = 1 AND pid = ?1 AND hostname = ?2 AND acquired_at = ?3",
                              "release the pass lock");
    if (stmt) {
      stmt->bind_int64(1, m_pid).bind_text(2, m_hostname).bind_text(3, m_acquired_at);
      (void)stmt->run("release the pass lock");
    }
  }

 private:
  std::shared_ptr<sqlite::Database> m_db;
  std::int64_t m_pid;
  std::string m_hostname;
  std::string m_acquired_at;
};

}  // namespace

model::Result<std::unique_ptr<SqliteStateStore>> SqliteStateStore::open(const std::string& path,
                                                                         std::chrono::milliseconds busy_timeout) {
  static_assert(SqliteStateStore::k_schema_version > 0);
  const std::string doing = "open state store " + path;
  auto with_path = [&](model::Error error) {
    // Every failure while opening names the file, whatever step it was.
    if (error.message.rfind("cannot open state store ", 0) != 0) {
      error.message = "cannot open state store " + path + ": " + error.message;
    }
    return tl::unexpected(std::move(error));
  };
  if (path.empty()) {
    // SQLite would quietly open a temporary file, losing everything on close.
    return model::fail(model::Error::Kind::invalid, "cannot open state store: no path given");
  }
  auto db = sqlite::Database::open(path, doing);
  if (!db) {
    return with_path(db.error());
  }
  sqlite3_busy_timeout((*db)->handle(), static_cast<int>(busy_timeout.count()));
  if (auto fk = (*db)->exec("PRAGMA foreign_keys = ON", "enable foreign keys"); !fk) {
    return with_path(fk.error());
  }
  // Checked before anything is written (WAL switch, migrations): a newer
  // mxctl's file must be left exactly as it was.
  auto version = (*db)->query_int64("PRAGMA user_version", "read the schema version");
  if (!version) {
    return with_path(version.error());
  }
  if (*version > k_schema_version) {
    return with_path(model::make_error(model::Error::Kind::invalid, newer_schema_message(*version)));
  }
  if (path != ":memory:") {
    // WAL lets `mxctl plan` read while a pass writes. On a filesystem without
    // shared memory SQLite keeps the rollback journal, which still works, so
    // the resulting mode is not checked.
    auto mode = (*db)->prepare("PRAGMA journal_mode = WAL", "enable WAL journaling");
    if (!mode) {
      return with_path(mode.error());
    }
    if (auto stepped = mode->step("enable WAL journaling"); !stepped) {
      return with_path(stepped.error());
    }
    // In WAL mode NORMAL still survives a killed process (every commit is in
    // the WAL before it returns); only an OS crash or power loss can lose the
    // last commits, never corrupt the file. FULL would fsync on each of the
    // journal and audit writes of every operation, which dominated mxctl's
    // own time in a large apply.
    if (auto synchronous = (*db)->exec("PRAGMA synchronous = NORMAL", "set synchronous mode"); !synchronous) {
      return with_path(synchronous.error());
    }
  }
  if (auto migrated = migrate_schema(**db); !migrated) {
    return with_path(migrated.error());
  }
  return std::unique_ptr<SqliteStateStore>(new SqliteStateStore(std::move(*db), path));
}

SqliteStateStore::SqliteStateStore(std::shared_ptr<sqlite::Database> db, std::string path)
    : m_db(std::move(db)), m_path(std::move(path)) {}

model::Result<std::unique_ptr<StateStore>> open_sqlite_store(const std::string& path) {
  auto store = SqliteStateStore::open(path);
  if (!store) {
    return tl::unexpected(store.error());
  }
  return std::unique_ptr<StateStore>(std::move(*store));
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
  if (auto ran = run_only(*token, doing); !ran) {
    return ran;
  }
  return txn->commit(doing);
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

model::Result<std::unique_ptr<StoreLock>> SqliteStateStore::lock(const std::string& command) {
  if (auto flushed = flush(); !flushed) {
    return tl::unexpected(flushed.error());
  }
  const char* doing = "take the pass lock";
  const std::int64_t pid = getpid();
  const std::string hostname = host_name();
  auto txn = sqlite::Transaction::begin(*m_db, doing);
  if (!txn) {
    return tl::unexpected(txn.error());
  }
  auto refusal = lock_refusal(*m_db, hostname);
  if (!refusal) {
    return tl::unexpected(refusal.error());
  }
  if (*refusal) {
    return model::fail(model::Error::Kind::conflict, std::move(**refusal));
  }
  const std::string acquired_at = now_text();
  auto take = m_db->cached(
      "INSERT OR REPLACE INTO lock (id, holder, pid, hostname, command, acquired_at) "
      "VALUES (1, ?1, ?2, ?3, ?4, ?5)",
      doing);
  if (!take) {
    return tl::unexpected(take.error());
  }
  take->bind_text(1, "pid " + std::to_string(pid) + " on " + hostname)
      .bind_int64(2, pid)
      .bind_text(3, hostname)
      .bind_text(4, command)
      .bind_text(5, acquired_at);
  if (auto taken = take->run(doing); !taken) {
    return tl::unexpected(taken.error());
  }
  if (auto committed = txn->commit(doing); !committed) {
    return tl::unexpected(committed.error());
  }
  return std::unique_ptr<StoreLock>(new SqliteStoreLock(m_db, pid, hostname, acquired_at));
}

}  // namespace adapters
