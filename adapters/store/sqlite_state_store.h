#pragma once
// StateStore in an embedded SQLite file. The schema is versioned with PRAGMA
// user_version and grows only by appending migrations, each applied in its own
// transaction, so an interrupted upgrade leaves the file at a known version.
//
// Times are stored as ISO-8601 UTC text with milliseconds
// ("2024-05-01T12:00:00.123Z") so the audit trail reads well in the sqlite3
// shell; they come back truncated to the millisecond.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "adapters/state_store.h"

namespace adapters {

namespace sqlite {
class Database;
}
struct LockRowTransaction;

/// How a SqliteStateStore is opened; the defaults are a pass's.
struct SqliteStoreOptions {
  /// How long a statement waits for another connection's write lock before
  /// failing with a transient error.
  std::chrono::milliseconds busy_timeout{5000};
  /// For readers (plan, audit): a file this process cannot write, or one in
  /// a directory it cannot write, is opened read-only instead of refused,
  /// and a store that cannot be created is replaced by an empty one in
  /// memory. Either way read_only() says so and every write fails.
  bool read_only_fallback = false;
  /// How long the pass lock holds without being renewed. Its holder renews
  /// it every `renew_every` from a thread of its own while it runs; a lock
  /// not renewed for this long is taken over.
  std::chrono::milliseconds lease{60000};
  /// 0: the holder does not renew (tests that drive the clock by hand).
  std::chrono::milliseconds renew_every{5000};
  /// Up to this size opening checks every page of the file; above it, only
  /// the tables that guard rooms and accounts, unless the last pass may
  /// have crashed (a whole check reads every page: about a second for a
  /// 100 MB store). Pages not checked are verified as they are read.
  std::int64_t full_check_bytes = 8 * 1024 * 1024;
  /// The clock of the lock's times (empty: the system clock), which tests
  /// set to move past a lease without waiting. Called from the renewing
  /// thread too.
  std::function<std::chrono::system_clock::time_point()> clock;
};

/// StateStore backed by one SQLite connection: every role, each in a file of
/// its own (sqlite_observation_store.cc, sqlite_pass_log.cc,
/// sqlite_lifecycle_store.cc, sqlite_store_lock.cc). Not thread-safe: one
/// pass uses one store. A StoreLock it hands out keeps the connection alive, so the lock
/// may outlive the store.
class SqliteStateStore final : public StateStore {
 public:
  /// The schema version this build creates and understands.
  static constexpr int k_schema_version = 12;
  /// How long a statement waits for another connection's write lock before
  /// failing with a transient error.
  static constexpr std::chrono::milliseconds k_default_busy_timeout{5000};

  /// Opens `path` (":memory:" for a private in-memory store), creating the
  /// file (mode 0600, so its -wal and -shm files are 0600 too) and applying
  /// pending migrations. Files use WAL journaling and every connection
  /// enforces foreign keys. Before it writes anything it refuses, naming the
  /// path and the way out: a file that is not a database or whose tables are
  /// not an mxctl store's, a schema newer than k_schema_version ("...
  /// upgrade mxctl"), and a damaged file (PRAGMA quick_check, and page
  /// checksums, of the whole file or the tables that guard rooms and
  /// accounts: see SqliteStoreOptions::full_check_bytes). A store from
  /// before page checksums gets them (one VACUUM) when first opened to write.
  static model::Result<std::unique_ptr<SqliteStateStore>> open(const std::string& path,
                                                                const SqliteStoreOptions& options);
  /// open() with default options but `busy_timeout`.
  static model::Result<std::unique_ptr<SqliteStateStore>> open(
      const std::string& path, std::chrono::milliseconds busy_timeout = k_default_busy_timeout);

  // ObservationCache (sqlite_observation_store.cc).

  /// key → room id of every managed room; empty when none.
  model::Result<std::map<std::string, std::string>> room_ids() override;
  /// Records (or replaces) the room id of `key`. Recording the same id again
  /// writes nothing. A room id already recorded for another key is a conflict.
  model::Result<void> set_room_id(const std::string& key, const std::string& room_id) override;
  /// Forgets `key` and whether its once-message was sent (a new room under
  /// the same key has not had it). Forgetting an unknown key does nothing.
  model::Result<void> forget_room(const std::string& key) override;

  /// Keys of rooms whose once-message was sent; empty when none.
  model::Result<std::set<std::string>> messages_sent() override;
  /// Records that the once-message of `key` was sent; repeating does nothing.
  model::Result<void> mark_message_sent(const std::string& key) override;

  /// The sync token of the last observation; empty when none.
  model::Result<std::string> sync_token() override;
  /// Replaces the sync token; the same token again writes nothing.
  model::Result<void> set_sync_token(const std::string& token) override;
  model::Result<std::map<std::string, std::string>> room_snapshots() override;
  model::Result<std::map<std::string, std::string>> room_snapshot_digests() override;
  model::Result<std::optional<std::string>> room_snapshot(const std::string& room_id) override;
  model::Result<std::set<std::pair<std::string, std::string>>> directs_set() override;
  model::Result<void> mark_direct_set(const std::string& room_key, const std::string& user_id) override;
  model::Result<void> forget_directs(const std::string& room_key) override;
  model::Result<void> save_observation(const std::string& sync_token,
                                       const std::map<std::string, std::optional<std::string>>& changed) override;
  /// Saves `update` in one transaction, or nothing (false) while another
  /// holder's lease runs; commits what is pending first.
  model::Result<bool> save_cache_unless_locked(const CacheUpdate& update) override;
  /// Room ids recorded by mark_room_written and not cleared; empty when none.
  model::Result<std::set<std::string>> rooms_written() override;
  /// Records `room_id` as written (a grouped write); repeating does nothing.
  model::Result<void> mark_room_written(const std::string& room_id) override;
  /// Forgets `room_ids` in one transaction, committing what is pending first.
  model::Result<void> clear_rooms_written(const std::set<std::string>& room_ids) override;
  model::Result<std::map<std::string, KeptRoomRead>> room_reads() override;
  /// Replaces the reads of `reads`' rooms and forgets those of rooms without
  /// a snapshot, in one transaction, committing what is pending first.
  model::Result<void> keep_room_reads(const std::map<std::string, KeptRoomRead>& reads) override;
  model::Result<std::optional<KeptProbe>> kept_probe() override;
  model::Result<void> keep_probe(const KeptProbe& probe) override;

  // CompiledDesiredCache (sqlite_compiled_desired.cc).

  model::Result<std::optional<CompiledDesired>> compiled_desired() override;
  model::Result<std::optional<std::string>> compiled_desired_digest() override;
  /// Replaces the kept state, committing what is pending first.
  model::Result<void> keep_compiled_desired(const CompiledDesired& compiled) override;

  // ConvergedVerdicts (sqlite_converged_verdict.cc).

  model::Result<std::optional<ConvergedVerdict>> converged_verdict() override;
  /// Replaces the kept verdict, committing what is pending first.
  model::Result<void> keep_converged_verdict(const ConvergedVerdict& verdict) override;

  // PassLog (sqlite_pass_log.cc).

  /// Records a run of `command` started now, outcome "running"; returns its id
  /// (ids are never reused).
  model::Result<std::int64_t> begin_run(const std::string& command) override;
  /// Records the end of a run now. `not_found` when there is no such run.
  model::Result<void> finish_run(std::int64_t run_id, const std::string& outcome, int changes_applied,
                                 int failures) override;
  /// The `limit` most recent runs, newest first; all of them when limit is
  /// negative.
  model::Result<std::vector<RunRecord>> runs(int limit) override;

  /// Appends `entry` to its run's journal; an unset `at` (the epoch) is
  /// recorded as now. `not_found` when the run does not exist.
  model::Result<void> record(const JournalEntry& entry) override;
  /// The journal of `run_id` in the order it was recorded; empty for an
  /// unknown run.
  model::Result<std::vector<JournalEntry>> journal(std::int64_t run_id) override;
  /// Keys of "create room <key>" journal entries of every run, through a
  /// partial index (so the lookup does not grow with the rest of the journal).
  model::Result<std::set<std::string>> journaled_room_creations() override;
  model::Result<void> append_audit(const AuditEntry& entry) override;
  model::Result<std::vector<AuditEntry>> audit(const AuditQuery& query) override;

  // LifecycleStore (sqlite_lifecycle_store.cc), as the interface describes it.

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

  // AppserviceTransactions (sqlite_transaction_log.cc).

  /// As AppserviceTransactions says, on this store's connection (durable
  /// before it returns, with whatever is pending).
  model::Result<bool> record_transaction(const std::string& txn_id) override;

  // PassLock: the lock (sqlite_store_lock.cc), serial and group commit
  // (sqlite_state_store.cc).

  /// Takes the single pass lock for this process (pid and hostname) running
  /// `command`, atomically, under a new lock id, and renews its lease from
  /// a thread of its own (file stores, renew_every > 0). `conflict`
  /// ("another mxctl pass (apply, pid 12 on host, lock ID) has held the
  /// lock since ...; ... mxctl unlock ID") while another holder's lease runs.
  /// A lock whose lease ran out, or left by a dead process on this host, is
  /// taken over: StoreLock::took_over() and the audit log say whose. Runs
  /// still recorded as "running" are then recorded as "interrupted" (only a
  /// lock holder runs one). Released when the returned object is destroyed.
  model::Result<std::unique_ptr<StoreLock>> lock(const std::string& command) override;
  /// Removes the lock whose id is `lock_id` and records that in the audit
  /// log; `not_found` when the store is not locked, `conflict` when the lock
  /// has another id. Returns the lock removed, described.
  model::Result<std::string> unlock(const std::string& lock_id) override;
  /// The file could not be opened for writing (read_only_fallback).
  bool read_only() const override { return m_read_only; }
  /// Opening made the schema: the file was new, empty or had no tables.
  bool created() const override { return m_created; }

  /// Starts at 0 and increases by at least one with every write that changes
  /// rooms, sent messages, accounts or the sync token (not runs or the
  /// journal, and not writes that change nothing). Kept by triggers in the
  /// schema, so no code path can forget it.
  model::Result<std::int64_t> serial() override;

  /// Group commit as PassLock describes it. The group is one open
  /// transaction on this connection (BEGIN IMMEDIATE, begun at the first
  /// grouped write), so reads through this store see the pending writes and
  /// other connections see them once committed. It holds the database's
  /// write lock while open (max_age, given the flush() calls GroupCommit
  /// asks for), which other writers wait out with their busy timeout. A
  /// savepoint around each multi-statement write keeps it whole inside the
  /// group.
  model::Result<void> set_group_commit(std::optional<GroupCommit> policy) override;
  model::Result<void> flush() override;

  /// Commits what is pending; errors are lost (call flush() first to see them).
  ~SqliteStateStore() override;

  /// The path the store was opened with.
  const std::string& path() const { return m_path; }

 private:
  SqliteStateStore(std::shared_ptr<sqlite::Database> db, std::string path, SqliteStoreOptions options);

  // The lock's clock: the options' or the system's.
  std::chrono::system_clock::time_point now() const;

  // Commits the open group if it holds max_writes or is max_age old.
  model::Result<void> flush_if_due();
  // Runs `write` inside the group (beginning it when none is open) and
  // commits the group when it is due; without grouping, runs it on its own.
  model::Result<void> grouped(std::string_view doing, const std::function<model::Result<void>()>& write);
  // The rows of an observation (token, changed snapshots), inside the
  // caller's transaction.
  model::Result<void> write_observation(const std::string& sync_token,
                                        const std::map<std::string, std::optional<std::string>>& changed);
  // Commits what is pending, begins a write transaction and reads the lock
  // row inside it: the start of whatever acts on the lock.
  model::Result<LockRowTransaction> begin_at_lock_row(std::string_view doing);
  // Runs `write` so that it is durable when this returns: inside the group,
  // which is then committed with it (one commit, not two), or on its own
  // when grouping is off.
  model::Result<void> durable(std::string_view doing, const std::function<model::Result<void>()>& write);

  std::shared_ptr<sqlite::Database> m_db;
  std::string m_path;
  SqliteStoreOptions m_options;
  bool m_read_only = false;
  bool m_created = false;
  std::optional<GroupCommit> m_group;
  // Writes in the open group and when its first one was made; meaningful
  // only while the connection has a transaction open, which between calls
  // only the group can have.
  int m_group_writes = 0;
  std::chrono::steady_clock::time_point m_group_started;
};

}  // namespace adapters
