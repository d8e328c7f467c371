// The pass log of PostgresStateStore (run history, the journal of attempts
// and the audit log) and the application-service transactions seen: the
// SQLite store's meaning (sqlite_pass_log.cc, sqlite_transaction_log.cc).

#include <optional>
#include <string>
#include <system_error>

#include "adapters/appservice_transactions.h"
#include "adapters/store/postgres_state_store.h"
#include "adapters/store/store_time.h"

namespace adapters {

namespace {

// Reads the integers of rows, remembering the first that is not one whole:
// only a damaged store, or one edited by hand, holds such a value.
class PassLogIntegers {
 public:
  explicit PassLogIntegers(std::string_view doing) : m_doing(doing) {}

  template <typename Int>
  Int read(const postgres::Value& value, std::string_view column) {
    if (m_error) {
      return Int{};
    }
    if (auto number = postgres::integer_value<Int>(value)) {
      return *number;
    }
    m_error = model::make_error(
        model::Error::Kind::invalid,
        "cannot " + std::string(m_doing) + ": " + std::string(column) + " is not an integer; the store is damaged");
    return Int{};
  }

  const std::optional<model::Error>& error() const { return m_error; }

 private:
  std::string_view m_doing;
  std::optional<model::Error> m_error;
};

std::string pass_log_text(const postgres::Value& value) { return value.value_or(std::string()); }

}  // namespace

model::Result<std::int64_t> PostgresStateStore::begin_run(const std::string& command) {
  std::lock_guard guard(m_session->mutex);
  if (auto flushed = flush_locked(); !flushed) {
    return tl::unexpected(flushed.error());
  }
  const std::string doing = "record start of " + command + " run";
  auto started = query(doing,
                       "INSERT INTO mxctl.runs (command, started, outcome) VALUES ($1::text, $2::text, 'running') "
                       "RETURNING id",
                       {command, format_store_time(now())});
  if (!started) {
    return tl::unexpected(started.error());
  }
  if (started->rows.size() != 1 || started->rows[0].empty()) {
    return model::fail(model::Error::Kind::invalid, "cannot " + doing + ": the server returned no run id");
  }
  PassLogIntegers integers(doing);
  const auto id = integers.read<std::int64_t>(started->rows[0][0], "mxctl.runs.id");
  if (integers.error()) {
    return tl::unexpected(*integers.error());
  }
  return id;
}

model::Result<void> PostgresStateStore::finish_run(std::int64_t run_id, const std::string& outcome,
                                                   int changes_applied, int failures) {
  std::lock_guard guard(m_session->mutex);
  if (auto flushed = flush_locked(); !flushed) {
    return flushed;
  }
  const std::string doing = "record end of run " + std::to_string(run_id);
  auto changed = query(doing,
                       "UPDATE mxctl.runs SET finished = $2::text, outcome = $3::text, changes_applied = $4::integer, "
                       "failures = $5::integer WHERE id = $1::bigint RETURNING id",
                       {std::to_string(run_id), format_store_time(now()), outcome, std::to_string(changes_applied),
                        std::to_string(failures)});
  if (!changed) {
    return tl::unexpected(changed.error());
  }
  if (changed->rows.empty()) {
    return model::fail(model::Error::Kind::not_found, "cannot " + doing + ": no such run");
  }
  return {};
}

model::Result<std::vector<RunRecord>> PostgresStateStore::runs(int limit) {
  std::lock_guard guard(m_session->mutex);
  const char* doing = "read run history";
  // LIMIT NULL is no limit: a negative limit asks for every run.
  const postgres::Value bound = limit < 0 ? std::nullopt : std::optional<std::string>(std::to_string(limit));
  auto rows = query(doing,
                    "SELECT id, command, started, finished, outcome, changes_applied, failures FROM mxctl.runs "
                    "ORDER BY id DESC LIMIT $1::bigint",
                    {bound});
  if (!rows) {
    return tl::unexpected(rows.error());
  }
  PassLogIntegers integers(doing);
  std::vector<RunRecord> records;
  records.reserve(rows->rows.size());
  for (const auto& row : rows->rows) {
    RunRecord run;
    run.id = integers.read<std::int64_t>(row[0], "mxctl.runs.id");
    run.command = pass_log_text(row[1]);
    run.started = parse_store_time(pass_log_text(row[2]));
    if (row[3]) {
      run.finished = parse_store_time(*row[3]);
    }
    run.outcome = pass_log_text(row[4]);
    run.changes_applied = integers.read<int>(row[5], "mxctl.runs.changes_applied");
    run.failures = integers.read<int>(row[6], "mxctl.runs.failures");
    if (integers.error()) {
      return tl::unexpected(*integers.error());
    }
    records.push_back(std::move(run));
  }
  return records;
}

model::Result<void> PostgresStateStore::record(const JournalEntry& entry) {
  std::lock_guard guard(m_session->mutex);
  const std::string doing =
      "record journal entry for run " + std::to_string(entry.run_id) + " (" + entry.operation + ")";
  const auto at = entry.at == std::chrono::system_clock::time_point{} ? now() : entry.at;
  return grouped(doing, [&]() -> model::Result<void> {
    // Inserted only beside its run, so that a missing one is told apart from
    // other failures: the journal belongs to a run, and a caller naming none
    // has a bug worth naming.
    auto inserted = query(doing,
                          "INSERT INTO mxctl.journal (run_id, operation, result, errcode, message, attempt, at) "
                          "SELECT id, $2::text, $3::text, $4::text, $5::text, $6::integer, $7::text FROM mxctl.runs "
                          "WHERE id = $1::bigint RETURNING id",
                          {std::to_string(entry.run_id), entry.operation, entry.result, entry.errcode, entry.message,
                           std::to_string(entry.attempt), format_store_time(at)});
    if (!inserted) {
      return tl::unexpected(inserted.error());
    }
    if (inserted->rows.empty()) {
      return model::fail(model::Error::Kind::not_found, "cannot " + doing + ": no such run");
    }
    return {};
  });
}

model::Result<std::vector<JournalEntry>> PostgresStateStore::journal(std::int64_t run_id) {
  std::lock_guard guard(m_session->mutex);
  const std::string doing = "read journal of run " + std::to_string(run_id);
  auto rows = query(doing,
                    "SELECT run_id, operation, result, errcode, message, attempt, at FROM mxctl.journal "
                    "WHERE run_id = $1::bigint ORDER BY id",
                    {std::to_string(run_id)});
  if (!rows) {
    return tl::unexpected(rows.error());
  }
  PassLogIntegers integers(doing);
  std::vector<JournalEntry> entries;
  entries.reserve(rows->rows.size());
  for (const auto& row : rows->rows) {
    JournalEntry entry;
    entry.run_id = integers.read<std::int64_t>(row[0], "mxctl.journal.run_id");
    entry.operation = pass_log_text(row[1]);
    entry.result = pass_log_text(row[2]);
    entry.errcode = pass_log_text(row[3]);
    entry.message = pass_log_text(row[4]);
    entry.attempt = integers.read<int>(row[5], "mxctl.journal.attempt");
    entry.at = parse_store_time(pass_log_text(row[6]));
    if (integers.error()) {
      return tl::unexpected(*integers.error());
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

model::Result<std::set<std::string>> PostgresStateStore::journaled_room_creations() {
  std::lock_guard guard(m_session->mutex);
  const char* doing = "read the room creations in the journal";
  // The WHERE repeats the partial index's own condition, which is what lets
  // the planner use it.
  auto rows = query(doing, "SELECT DISTINCT operation FROM mxctl.journal WHERE operation LIKE 'create room %'");
  if (!rows) {
    return tl::unexpected(rows.error());
  }
  static const std::string k_prefix = "create room ";
  std::set<std::string> keys;
  for (const auto& row : rows->rows) {
    // As the SQLite store counts them: only mxctl's own wording, with a key.
    const std::string operation = pass_log_text(row[0]);
    if (operation.rfind(k_prefix, 0) == 0 && operation.size() > k_prefix.size()) {
      keys.insert(operation.substr(k_prefix.size()));
    }
  }
  return keys;
}

model::Result<void> PostgresStateStore::append_audit(const AuditEntry& entry) {
  std::lock_guard guard(m_session->mutex);
  const char* doing = "append to the audit log";
  return grouped(doing, [&]() -> model::Result<void> {
    auto inserted = query(doing,
                          "INSERT INTO mxctl.audit (run_id, at, action, key, target, before, after, result, message) "
                          "VALUES ($1::bigint, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text, "
                          "$9::text)",
                          {std::to_string(entry.run_id), format_store_time(entry.at), entry.action, entry.key,
                           entry.target, entry.before, entry.after, entry.result, entry.message});
    if (!inserted) {
      return tl::unexpected(inserted.error());
    }
    return {};
  });
}

model::Result<std::vector<AuditEntry>> PostgresStateStore::audit(const AuditQuery& audit_query) {
  std::lock_guard guard(m_session->mutex);
  const char* doing = "read the audit log";
  // Times are fixed-width ISO-8601 UTC text, so text order is time order in
  // byte order (COLLATE "C"), which a database's collation need not be.
  auto rows = query(doing,
                    "SELECT id, run_id, at, action, key, target, before, after, result, message FROM mxctl.audit "
                    "WHERE ($1::text = '' OR at COLLATE \"C\" >= $1::text) AND ($2::text = '' OR key = $2::text) "
                    "ORDER BY id",
                    {audit_query.since ? format_store_time(*audit_query.since) : std::string(), audit_query.key});
  if (!rows) {
    return tl::unexpected(rows.error());
  }
  PassLogIntegers integers(doing);
  std::vector<AuditEntry> out;
  out.reserve(rows->rows.size());
  for (const auto& row : rows->rows) {
    AuditEntry entry;
    entry.id = integers.read<std::int64_t>(row[0], "mxctl.audit.id");
    entry.run_id = integers.read<std::int64_t>(row[1], "mxctl.audit.run_id");
    entry.at = parse_store_time(pass_log_text(row[2]));
    entry.action = pass_log_text(row[3]);
    entry.key = pass_log_text(row[4]);
    entry.target = pass_log_text(row[5]);
    entry.before = pass_log_text(row[6]);
    entry.after = pass_log_text(row[7]);
    entry.result = pass_log_text(row[8]);
    entry.message = pass_log_text(row[9]);
    if (integers.error()) {
      return tl::unexpected(*integers.error());
    }
    out.push_back(std::move(entry));
  }
  return out;
}

model::Result<bool> PostgresStateStore::record_transaction(const std::string& txn_id) {
  std::lock_guard guard(m_session->mutex);
  // Committed with whatever the group holds, before the homeserver is told.
  if (auto flushed = flush_locked(); !flushed) {
    return tl::unexpected(flushed.error());
  }
  const std::string doing = "record appservice transaction " + txn_id;
  bool inserted = false;
  auto written = atomically(doing, [&]() -> model::Result<void> {
    auto rows = query(doing,
                      "INSERT INTO mxctl.appservice_transactions (txn_id, received_at) VALUES ($1::text, $2::text) "
                      "ON CONFLICT (txn_id) DO NOTHING RETURNING id",
                      {txn_id, format_store_time(now())});
    if (!rows) {
      return tl::unexpected(rows.error());
    }
    inserted = !rows->rows.empty();
    if (!inserted) {
      return {};
    }
    // All but the newest k_kept go. Identity values have gaps (a repeat's
    // insert spends one), so the cut is found by position, not arithmetic.
    auto pruned = query(doing,
                        "DELETE FROM mxctl.appservice_transactions WHERE id <= (SELECT id FROM "
                        "mxctl.appservice_transactions ORDER BY id DESC OFFSET $1::bigint LIMIT 1)",
                        {std::to_string(AppserviceTransactions::k_kept)});
    if (!pruned) {
      return tl::unexpected(pruned.error());
    }
    return {};
  });
  if (!written) {
    return tl::unexpected(written.error());
  }
  return inserted;
}

}  // namespace adapters
