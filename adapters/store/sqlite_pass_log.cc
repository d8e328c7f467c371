// The pass log of SqliteStateStore: run history, the journal of attempts
// and the audit log.

#include "adapters/store/sqlite_db.h"
#include "adapters/store/sqlite_schema.h"
#include "adapters/store/sqlite_state_store.h"

namespace adapters {

namespace {

using Clock = std::chrono::system_clock;

}  // namespace

model::Result<std::int64_t> SqliteStateStore::begin_run(const std::string& command) {
  if (auto flushed = flush(); !flushed) {
    return tl::unexpected(flushed.error());
  }
  const std::string doing = "record start of " + command + " run";
  auto started = sqlite::run_statement(*m_db, "INSERT INTO runs (command, started, outcome) VALUES (?1, ?2, 'running')",
                                       doing, [&](sqlite::Statement& stmt) {
                                         stmt.bind_text(1, command).bind_text(2, format_store_time(Clock::now()));
                                       });
  if (!started) {
    return tl::unexpected(started.error());
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
    return tl::unexpected(stmt.error());
  }
  stmt->bind_int64(1, run_id).bind_text(2, format_store_time(Clock::now())).bind_text(3, outcome);
  stmt->bind_int64(4, changes_applied).bind_int64(5, failures);
  auto changed = stmt->run(doing);
  if (!changed) {
    return tl::unexpected(changed.error());
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
  auto read = sqlite::for_each_row(*stmt, doing, [&](sqlite::Statement& row) {
    RunRecord run;
    run.id = row.int64(0);
    run.command = row.text(1);
    run.started = parse_store_time(row.text(2));
    if (!row.is_null(3)) {
      run.finished = parse_store_time(row.text(3));
    }
    run.outcome = row.text(4);
    run.changes_applied = static_cast<int>(row.int64(5));
    run.failures = static_cast<int>(row.int64(6));
    records.push_back(std::move(run));
  });
  if (!read) {
    return tl::unexpected(read.error());
  }
  return records;
}

model::Result<void> SqliteStateStore::record(const JournalEntry& entry) {
  const std::string doing = "record journal entry for run " + std::to_string(entry.run_id) + " (" + entry.operation + ")";
  return grouped(doing, [&]() -> model::Result<void> {
    auto stmt = m_db->cached(
        "INSERT INTO journal (run_id, operation, result, errcode, message, attempt, at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        doing);
    if (!stmt) {
      return tl::unexpected(stmt.error());
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
      return tl::unexpected(ran.error());
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
  auto read = sqlite::for_each_row(*stmt, doing, [&](sqlite::Statement& row) {
    JournalEntry entry;
    entry.run_id = row.int64(0);
    entry.operation = row.text(1);
    entry.result = row.text(2);
    entry.errcode = row.text(3);
    entry.message = row.text(4);
    entry.attempt = static_cast<int>(row.int64(5));
    entry.at = parse_store_time(row.text(6));
    entries.push_back(std::move(entry));
  });
  if (!read) {
    return tl::unexpected(read.error());
  }
  return entries;
}

model::Result<std::set<std::string>> SqliteStateStore::journaled_room_creations() {
  const char* doing = "read the room creations in the journal";
  // The WHERE repeats the partial index's own condition, which is what lets
  // SQLite use it.
  auto stmt = m_db->cached("SELECT DISTINCT operation FROM journal WHERE operation LIKE 'create room %'", doing);
  if (!stmt) {
    return tl::unexpected(stmt.error());
  }
  static const std::string k_prefix = "create room ";
  std::set<std::string> keys;
  auto read = sqlite::for_each_row(*stmt, doing, [&](sqlite::Statement& row) {
    // LIKE ignores ASCII case; only mxctl's own wording counts.
    std::string operation = row.text(0);
    if (operation.rfind(k_prefix, 0) == 0 && operation.size() > k_prefix.size()) {
      keys.insert(operation.substr(k_prefix.size()));
    }
  });
  if (!read) {
    return tl::unexpected(read.error());
  }
  return keys;
}

model::Result<void> SqliteStateStore::append_audit(const AuditEntry& entry) {
  const char* doing = "append to the audit log";
  return grouped(doing, [&] {
    return sqlite::run_statement(*m_db,
                                 "INSERT INTO audit (run_id, at, action, key, target, before, after, result, message) "
                                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                                 doing, [&](sqlite::Statement& stmt) {
                                   stmt.bind_int64(1, entry.run_id)
                                       .bind_text(2, format_store_time(entry.at))
                                       .bind_text(3, entry.action)
                                       .bind_text(4, entry.key)
                                       .bind_text(5, entry.target)
                                       .bind_text(6, entry.before)
                                       .bind_text(7, entry.after)
                                       .bind_text(8, entry.result)
                                       .bind_text(9, entry.message);
                                 });
  });
}

model::Result<std::vector<AuditEntry>> SqliteStateStore::audit(const AuditQuery& query) {
  const char* doing = "read the audit log";
  // Times are fixed-width ISO-8601 UTC text, so text order is time order.
  auto stmt = m_db->cached(
      "SELECT id, run_id, at, action, key, target, before, after, result, message FROM audit "
      "WHERE (?1 = '' OR at >= ?1) AND (?2 = '' OR key = ?2) ORDER BY id",
      doing);
  if (!stmt) {
    return tl::unexpected(stmt.error());
  }
  stmt->bind_text(1, query.since ? format_store_time(*query.since) : std::string()).bind_text(2, query.key);
  std::vector<AuditEntry> out;
  auto read = sqlite::for_each_row(*stmt, doing, [&](sqlite::Statement& row) {
    AuditEntry entry;
    entry.id = row.int64(0);
    entry.run_id = row.int64(1);
    entry.at = parse_store_time(row.text(2));
    entry.action = row.text(3);
    entry.key = row.text(4);
    entry.target = row.text(5);
    entry.before = row.text(6);
    entry.after = row.text(7);
    entry.result = row.text(8);
    entry.message = row.text(9);
    out.push_back(std::move(entry));
  });
  if (!read) {
    return tl::unexpected(read.error());
  }
  return out;
}

}  // namespace adapters
