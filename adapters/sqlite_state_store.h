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

/// StateStore backed by one SQLite connection. Not thread-safe: one pass uses
/// one store. A StoreLock it hands out keeps the connection alive, so the lock
/// may outlive the store.
class SqliteStateStore final : public StateStore {
 public:
  /// The schema version this build creates and understands.
  static constexpr int k_schema_version = 5;
  /// How long a statement waits for another connection's write lock before
  /// failing with a transient error.
  static constexpr std::chrono::milliseconds k_default_busy_timeout{5000};

  /// Opens `path` (":memory:" for a private in-memory store), creating the
  /// file and applying pending migrations. Files use WAL journaling and every
  /// connection enforces foreign keys. Fails naming the path when the file
  /// cannot be opened or is not a database, and refuses a schema newer than
  /// k_schema_version ("... upgrade mxctl") without touching the file.
  static model::Result<std::unique_ptr<SqliteStateStore>> open(
      const std::string& path, std::chrono::milliseconds busy_timeout = k_default_busy_timeout);

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
  model::Result<std::set<std::pair<std::string, std::string>>> directs_set() override;
  model::Result<void> mark_direct_set(const std::string& room_key, const std::string& user_id) override;
  model::Result<void> save_observation(const std::string& sync_token,
                                       const std::map<std::string, std::optional<std::string>>& changed) override;
  /// Room ids recorded by mark_room_written and not cleared; empty when none.
  model::Result<std::set<std::string>> rooms_written() override;
  /// Records `room_id` as written (a grouped write); repeating does nothing.
  model::Result<void> mark_room_written(const std::string& room_id) override;
  /// Forgets `room_ids` in one transaction, committing what is pending first.
  model::Result<void> clear_rooms_written(const std::set<std::string>& room_ids) override;
  /// Keys of "create room <key>" journal entries of every run, through a
  /// partial index (so the lookup does not grow with the rest of the journal).
  model::Result<std::set<std::string>> journaled_room_creations() override;

  /// Starts at 0 and increases by at least one with every write that changes
  /// rooms, sent messages, accounts or the sync token (not runs or the
  /// journal, and not writes that change nothing). Kept by triggers in the
  /// schema, so no code path can forget it.
  model::Result<std::int64_t> serial() override;

  /// Records a run of `command` started now, outcome "running"; returns its id
  /// (ids are never reused).
  model::Result<std::int64_t> begin_run(const std::string& command) override;
  /// Records the end of a run now. `not_found` when there is no such run.
  model::Result<void> finish_run(std::int64_t run_id, const std::string& outcome, int changes_applied,
                                 int failures) override;
  /// The `limit` most recent runs, newest first; all of them when limit is
  /// negative (as FakeStateStore does).
  model::Result<std::vector<RunRecord>> runs(int limit) override;

  /// Appends `entry` to its run's journal; an unset `at` (the epoch) is
  /// recorded as now. `not_found` when the run does not exist.
  model::Result<void> record(const JournalEntry& entry) override;
  /// The journal of `run_id` in the order it was recorded; empty for an
  /// unknown run.
  model::Result<std::vector<JournalEntry>> journal(std::int64_t run_id) override;

  /// Takes the single pass lock for this process (pid and hostname) running
  /// `command`, atomically. `conflict` ("another mxctl pass (apply, pid 12 on
  /// host) has held the lock since 2024-05-01T12:00:00Z") when a live process
  /// on this host, or any process on another host, holds it; a lock left by a
  /// dead process on this host is taken over silently. The lock is released
  /// when the returned object is destroyed; a crashed holder leaves it behind
  /// for the next pass to take over.
  model::Result<std::unique_ptr<StoreLock>> lock(const std::string& command) override;

  // Lifecycle and audit records (sqlite_lifecycle_store.cc).
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
  model::Result<void> append_audit(const AuditEntry& entry) override;
  model::Result<std::vector<AuditEntry>> audit(const AuditQuery& query) override;

  /// Group commit as StateStore describes it. The group is one open
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
  SqliteStateStore(std::shared_ptr<sqlite::Database> db, std::string path);

  // Commits the open group if it holds max_writes or is max_age old.
  model::Result<void> flush_if_due();
  // Runs `write` inside the group (beginning it when none is open) and
  // commits the group when it is due; without grouping, runs it on its own.
  model::Result<void> grouped(std::string_view doing, const std::function<model::Result<void>()>& write);
  // Runs `write` so that it is durable when this returns: inside the group,
  // which is then committed with it (one commit, not two), or on its own
  // when grouping is off.
  model::Result<void> durable(std::string_view doing, const std::function<model::Result<void>()>& write);

  std::shared_ptr<sqlite::Database> m_db;
  std::string m_path;
  std::optional<GroupCommit> m_group;
  // Writes in the open group and when its first one was made; meaningful
  // only while the connection has a transaction open, which between calls
  // only the group can have.
  int m_group_writes = 0;
  std::chrono::steady_clock::time_point m_group_started;
};

}  // namespace adapters
