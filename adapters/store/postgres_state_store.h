#pragma once
// StateStore in a PostgreSQL database, for replicas of `mxctl run` on more
// than one host: the same roles and the same meaning as the SQLite store
// (sqlite_state_store.h), its tables in a schema of their own ("mxctl") so
// that it can share a database with the application.
//
// The pass lock is a session-level advisory lock on the store's connection
// (postgres_lease.h): held while the session lives, released when it ends,
// however it ends. So there is no lease to renew, and a holder that lost
// its session can no longer write the store either. A row beside it names
// the holder for whoever finds the lock taken.
//
// Times are stored as the SQLite store stores them (ISO-8601 UTC text with
// milliseconds), so `mxctl state migrate` copies rows as they are.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "adapters/postgres/postgres_connection.h"
#include "adapters/state_store.h"

namespace adapters {

/// The store's connection and the mutex every use of it takes: the store
/// and the locks it hands out share it, and the executor confirms the lock
/// from another thread than the one that records.
struct PostgresSession {
  std::unique_ptr<postgres::Connection> connection;
  std::mutex mutex;
};

/// How a PostgresStateStore is opened; the defaults are a pass's.
struct PostgresStoreOptions {
  /// The connection's bounds (connecting, each statement).
  postgres::Timeouts timeouts;
  /// How long confirming the pass lock may wait for the server before the
  /// holder counts it as lost (StoreLock::still_held).
  std::chrono::milliseconds confirm_within{2000};
  /// The clock of the lock's and the runs' times (empty: the system clock).
  std::function<std::chrono::system_clock::time_point()> clock;
};

/// StateStore on one PostgreSQL connection: every role, each in a file of
/// its own (postgres_observation_store.cc, postgres_pass_log.cc,
/// postgres_lifecycle_store.cc, postgres_store_lock.cc, postgres_kept.cc).
/// Thread-safe through the session's mutex; one pass uses one store.
class PostgresStateStore final : public StateStore {
 public:
  /// The schema version this build creates and understands.
  static constexpr int k_schema_version = 1;
  /// The schema the store's tables live in.
  static constexpr std::string_view k_schema = "mxctl";

  /// Connects to `conninfo` (postgresql://… or "key=value" pairs) and
  /// creates or migrates the store's schema, one transaction per version,
  /// while holding a transaction-level advisory lock so that two
  /// processes opening a new database take turns. Refuses, naming the
  /// database (password redacted) and what to do: a schema "mxctl" that
  /// is not an mxctl store, and a version newer than k_schema_version.
  static model::Result<std::unique_ptr<PostgresStateStore>> open(const std::string& conninfo,
                                                                  const PostgresStoreOptions& options = {});

  // ObservationCache (postgres_observation_store.cc), as the interface says.
  model::Result<std::map<std::string, std::string>> room_ids() override;
  model::Result<void> set_room_id(const std::string& key, const std::string& room_id) override;
  model::Result<void> forget_room(const std::string& key) override;
  model::Result<std::set<std::string>> messages_sent() override;
  model::Result<void> mark_message_sent(const std::string& key) override;
  model::Result<std::string> sync_token() override;
  model::Result<void> set_sync_token(const std::string& token) override;
  model::Result<std::map<std::string, std::string>> room_snapshots() override;
  model::Result<std::map<std::string, std::string>> room_snapshot_digests() override;
  model::Result<std::optional<std::string>> room_snapshot(const std::string& room_id) override;
  model::Result<std::set<std::pair<std::string, std::string>>> directs_set() override;
  model::Result<void> mark_direct_set(const std::string& room_key, const std::string& user_id) override;
  model::Result<void> forget_directs(const std::string& room_key) override;
  model::Result<void> save_observation(const std::string& sync_token,
                                       const std::map<std::string, std::optional<std::string>>& changed) override;
  /// Saves `update` in one transaction, or nothing (false) while any
  /// session, this one included, holds the pass lock (as the SQLite store).
  model::Result<bool> save_cache_unless_locked(const CacheUpdate& update) override;
  model::Result<std::set<std::string>> rooms_written() override;
  model::Result<void> mark_room_written(const std::string& room_id) override;
  model::Result<void> clear_rooms_written(const std::set<std::string>& room_ids) override;
  model::Result<std::map<std::string, KeptRoomRead>> room_reads() override;
  model::Result<void> keep_room_reads(const std::map<std::string, KeptRoomRead>& reads) override;
  model::Result<std::optional<KeptProbe>> kept_probe() override;
  model::Result<void> keep_probe(const KeptProbe& probe) override;

  // CompiledDesiredCache and ConvergedVerdicts (postgres_kept.cc).
  model::Result<std::optional<CompiledDesired>> compiled_desired() override;
  model::Result<std::optional<std::string>> compiled_desired_digest() override;
  model::Result<void> keep_compiled_desired(const CompiledDesired& compiled) override;
  model::Result<std::optional<ConvergedVerdict>> converged_verdict() override;
  model::Result<void> keep_converged_verdict(const ConvergedVerdict& verdict) override;

  // PassLog (postgres_pass_log.cc), as the interface says.
  model::Result<std::int64_t> begin_run(const std::string& command) override;
  model::Result<void> finish_run(std::int64_t run_id, const std::string& outcome, int changes_applied,
                                 int failures) override;
  model::Result<std::vector<RunRecord>> runs(int limit) override;
  model::Result<void> record(const JournalEntry& entry) override;
  model::Result<std::vector<JournalEntry>> journal(std::int64_t run_id) override;
  model::Result<std::set<std::string>> journaled_room_creations() override;
  model::Result<void> append_audit(const AuditEntry& entry) override;
  model::Result<std::vector<AuditEntry>> audit(const AuditQuery& query) override;

  // LifecycleStore (postgres_lifecycle_store.cc), as the interface says.
  model::Result<std::map<std::string, std::int64_t>> archive_records() override;
  model::Result<void> record_archive(const std::string& key, const std::string& room_id,
                                     std::int64_t archived_at) override;
  model::Result<void> clear_archive(const std::string& key) override;
  model::Result<void> record_tombstone(const Tombstone& tombstone) override;
  model::Result<std::vector<Tombstone>> tombstones() override;
  model::Result<std::map<std::string, std::string>> managed_accounts() override;
  model::Result<void> remember_account(const std::string& key, const std::string& user_id) override;
  model::Result<std::set<std::string>> suspended_accounts() override;
  model::Result<void> set_account_suspended(const std::string& key, bool suspended) override;
  model::Result<std::set<std::string>> protected_addresses() override;
  model::Result<void> set_protected(const std::string& address, bool is_protected) override;

  // AppserviceTransactions (postgres_pass_log.cc).
  model::Result<bool> record_transaction(const std::string& txn_id) override;

  // PassLock: the lock (postgres_store_lock.cc), serial and group commit
  // (postgres_state_store.cc).

  /// Takes the advisory lock of this store for this session, and records
  /// this process (pid, hostname, `command`, a new lock id) as its holder.
  /// `conflict` naming the holder while another session holds it. A holder
  /// row left by a session that ended is replaced: took_over() and the
  /// audit log say whose, and its runs still "running" become
  /// "interrupted". Released when the returned object is destroyed.
  model::Result<std::unique_ptr<StoreLock>> lock(const std::string& command) override;
  /// Removes the holder row whose lock id is `lock_id` when its session has
  /// ended; `conflict` while that session still holds the lock (stop that
  /// process, or pg_terminate_backend its session), `not_found` when no
  /// holder is recorded.
  model::Result<std::string> unlock(const std::string& lock_id) override;
  /// Starts at 0 and increases with every write that changes rooms, sent
  /// messages, accounts, archives, tombstones or the sync token (triggers).
  model::Result<std::int64_t> serial() override;
  /// Group commit as PassLock describes it: one open transaction on the
  /// connection, each grouped write in a savepoint of its own so that one
  /// failed write does not lose the others.
  model::Result<void> set_group_commit(std::optional<GroupCommit> policy) override;
  model::Result<void> flush() override;
  /// Opening made the schema.
  bool created() const override { return m_created; }

  /// Commits what is pending; errors are lost (call flush() first to see them).
  ~PostgresStateStore() override;

  /// The database, password redacted.
  const std::string& where() const { return m_session->connection->where(); }
  /// The session's server process id (for operators' pg_terminate_backend, and tests).
  int backend_pid() const { return m_session->connection->backend_pid(); }

 private:
  PostgresStateStore(std::shared_ptr<PostgresSession> session, PostgresStoreOptions options, bool created);

  std::chrono::system_clock::time_point now() const;
  postgres::Connection& db() { return *m_session->connection; }

  // One statement, under the session's mutex held by the caller.
  model::Result<postgres::Rows> query(std::string_view doing, const std::string& sql,
                                      const std::vector<postgres::Value>& params = {});
  // Runs `write` inside the group (beginning it when none is open, in a
  // savepoint) and commits the group when it is due; without grouping, in
  // a transaction of its own.
  model::Result<void> grouped(std::string_view doing, const std::function<model::Result<void>()>& write);
  // grouped(), then a commit: durable when this returns.
  model::Result<void> durable(std::string_view doing, const std::function<model::Result<void>()>& write);
  // Runs `write` all or nothing: a transaction, or a savepoint inside the group.
  model::Result<void> atomically(std::string_view doing, const std::function<model::Result<void>()>& write);
  model::Result<void> flush_locked();
  model::Result<void> flush_if_due();
  model::Result<void> write_observation(const std::string& sync_token,
                                        const std::map<std::string, std::optional<std::string>>& changed);

  std::shared_ptr<PostgresSession> m_session;
  PostgresStoreOptions m_options;
  bool m_created = false;
  std::optional<GroupCommit> m_group;
  // Writes in the open group and when its first one was made; the group is
  // the transaction open on the connection between calls (the only one).
  int m_group_writes = 0;
  std::chrono::steady_clock::time_point m_group_started;
};

/// The application-service transaction log (appservice_transactions.h) on
/// the PostgreSQL store at `where`, with a session of its own that is opened
/// again when it ended (a database restart).
model::Result<std::unique_ptr<AppserviceTransactions>> open_postgres_transaction_log(const std::string& where);

}  // namespace adapters
