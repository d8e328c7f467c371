#pragma once
// The controller's memory between passes, in an embedded SQLite file
// (default mxctl.db). It is a cache and an audit trail, never the source of
// truth: every pass re-observes, and a lost store is rebuilt from aliases and
// markers without creating duplicates.

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "model/result.h"

namespace adapters {

/// One attempt at one operation, as recorded in the journal.
struct JournalEntry {
  std::int64_t run_id = 0;
  /// model::describe(operation), e.g. "create room community/riverside".
  std::string operation;
  /// "ok", "already_done", "failed", "skipped"; "planned" (attempt 0) for
  /// a room creation an apply sets out to make, written before any attempt.
  std::string result;
  /// The homeserver's errcode (M_FORBIDDEN, ...) or empty.
  std::string errcode;
  /// Human-readable detail, never containing a secret.
  std::string message;
  int attempt = 1;
  std::chrono::system_clock::time_point at;
};

/// A pass, as recorded in run history.
struct RunRecord {
  std::int64_t id = 0;
  std::string command;  ///< "apply", "reconcile", ...
  std::chrono::system_clock::time_point started;
  std::optional<std::chrono::system_clock::time_point> finished;
  /// "running", "succeeded", "failed".
  std::string outcome;
  int changes_applied = 0;
  int failures = 0;
};

/// A hard-deleted room, kept so that deletion is audited, never silent.
struct Tombstone {
  std::string key;
  std::string room_id;
  /// ms since the epoch.
  std::int64_t archived_at = 0;
  std::int64_t deleted_at = 0;
};

/// One applied (or failed) action in the audit log (FT-17's audit trail).
struct AuditEntry {
  std::int64_t id = 0;
  std::int64_t run_id = 0;
  std::chrono::system_clock::time_point at;
  /// What was done: "create_room", "set_state m.room.power_levels",
  /// "invite", "delete_room", "suspend_account", ...
  std::string action;
  /// The room or account key ("community/riverside", "alice").
  std::string key;
  /// The room id or user id acted on (empty when not known yet).
  std::string target;
  /// The value before and after, as the plan displayed it (empty when not a
  /// state change).
  std::string before;
  std::string after;
  /// "ok", "already_done", "failed", "skipped".
  std::string result;
  /// The error, for failures.
  std::string message;
};

/// Which audit entries to list.
struct AuditQuery {
  /// Only entries at or after this time.
  std::optional<std::chrono::system_clock::time_point> since;
  /// Only entries for this key (exact match) when not empty.
  std::string key;
};

/// How group commit batches the per-operation writes of an apply.
struct GroupCommit {
  /// Commit once this many grouped writes are pending.
  int max_writes = 500;
  /// Commit once the first pending write is this old. Checked at every
  /// grouped write, so whoever turns grouping on must also call flush() at
  /// least this often while it lasts, for when nothing is being written.
  std::chrono::milliseconds max_age{100};
};

/// Held while a pass runs; released (lock row deleted) when destroyed. A
/// store's pending grouped writes are committed before the lock goes.
class StoreLock {
 public:
  virtual ~StoreLock() = default;
};

/// The controller's persistent state.
class StateStore {
 public:
  virtual ~StateStore() = default;

  /// key → room id of every managed room.
  virtual model::Result<std::map<std::string, std::string>> room_ids() = 0;
  /// Records (or replaces) the room id of `key`.
  virtual model::Result<void> set_room_id(const std::string& key, const std::string& room_id) = 0;
  /// Forgets `key` (the room is gone).
  virtual model::Result<void> forget_room(const std::string& key) = 0;

  /// Keys of rooms whose once-message was sent.
  virtual model::Result<std::set<std::string>> messages_sent() = 0;
  virtual model::Result<void> mark_message_sent(const std::string& key) = 0;

  /// (room key, user id) pairs whose m.direct entry mxctl has set.
  virtual model::Result<std::set<std::pair<std::string, std::string>>> directs_set() = 0;
  virtual model::Result<void> mark_direct_set(const std::string& room_key, const std::string& user_id) = 0;

  /// The sync token of the last observation; empty when none.
  virtual model::Result<std::string> sync_token() = 0;
  virtual model::Result<void> set_sync_token(const std::string& token) = 0;

  /// The room state as last observed, by room id (a JSON array of state
  /// events each), which incremental observation brings up to date.
  virtual model::Result<std::map<std::string, std::string>> room_snapshots() = 0;
  /// Records an observation in one transaction: the sync token it ends at
  /// and the snapshots that changed (nullopt: the room is gone). The token
  /// and snapshots always match, so the next pass can read only changes.
  virtual model::Result<void> save_observation(
      const std::string& sync_token, const std::map<std::string, std::optional<std::string>>& changed) = 0;

  /// Room ids mxctl wrote to (created, changed state in, invited to or
  /// kicked from, sent a message to) since the observation last saved. On
  /// Synapse concurrent writes can fork a room's event graph, and /sync then
  /// computes its state at one branch and misses a change on the other, so
  /// the next observation re-reads these rooms with GET /rooms/{id}/state.
  virtual model::Result<std::set<std::string>> rooms_written() = 0;
  /// Records that mxctl wrote to `room_id`; repeating does nothing.
  virtual model::Result<void> mark_room_written(const std::string& room_id) = 0;
  /// Forgets `room_ids` (an observation re-read them and its token and
  /// snapshots are saved); ids not recorded are ignored.
  virtual model::Result<void> clear_rooms_written(const std::set<std::string>& room_ids) = 0;

  /// Keys of the rooms whose creation the journal records (an entry for
  /// "create room <key>" in any run, whatever its result): a room holding
  /// such a key's alias that the bot created may be mxctl's own, made by a
  /// pass that ended before it could see the marker.
  virtual model::Result<std::set<std::string>> journaled_room_creations() = 0;

  /// Increases on every change to the store's contents; a saved plan records
  /// it so that `apply --plan` can refuse a plan made from an older state.
  virtual model::Result<std::int64_t> serial() = 0;

  /// Starts a run; returns its id.
  virtual model::Result<std::int64_t> begin_run(const std::string& command) = 0;
  virtual model::Result<void> finish_run(std::int64_t run_id, const std::string& outcome, int changes_applied,
                                         int failures) = 0;
  virtual model::Result<std::vector<RunRecord>> runs(int limit) = 0;

  virtual model::Result<void> record(const JournalEntry& entry) = 0;
  virtual model::Result<std::vector<JournalEntry>> journal(std::int64_t run_id) = 0;

  /// Archive times (ms since the epoch) by room key.
  virtual model::Result<std::map<std::string, std::int64_t>> archive_records() = 0;
  /// Records that `key` (room `room_id`) was archived at `archived_at`;
  /// an existing record is kept (the first archive time counts).
  virtual model::Result<void> record_archive(const std::string& key, const std::string& room_id,
                                             std::int64_t archived_at) = 0;
  /// Forgets the archive record of `key` (it was restored).
  virtual model::Result<void> clear_archive(const std::string& key) = 0;
  /// Records a hard deletion and, in the same transaction, forgets the
  /// room's id, archive record, sent message and m.direct records.
  virtual model::Result<void> record_tombstone(const Tombstone& tombstone) = 0;
  virtual model::Result<std::vector<Tombstone>> tombstones() = 0;

  /// Accounts mxctl manages: key → MXID.
  virtual model::Result<std::map<std::string, std::string>> managed_accounts() = 0;
  /// Records (or updates) a managed account; unchanged records write nothing.
  virtual model::Result<void> remember_account(const std::string& key, const std::string& user_id) = 0;

  /// Keys of managed accounts mxctl suspended (and has not reactivated).
  virtual model::Result<std::set<std::string>> suspended_accounts() = 0;
  /// Records that mxctl suspended (or reactivated) the managed account `key`.
  virtual model::Result<void> set_account_suspended(const std::string& key, bool suspended) = 0;

  /// Addresses ("room.<key>", "account.<key>") last declared `protect: true`.
  virtual model::Result<std::set<std::string>> protected_addresses() = 0;
  /// Records or clears the protection of `address`; unchanged writes nothing.
  virtual model::Result<void> set_protected(const std::string& address, bool is_protected) = 0;

  /// Appends to the audit log.
  virtual model::Result<void> append_audit(const AuditEntry& entry) = 0;
  /// The audit log in the order written, filtered by `query`.
  virtual model::Result<std::vector<AuditEntry>> audit(const AuditQuery& query) = 0;

  /// Group commit (for the executor, which writes a journal row per attempt
  /// and an audit row per operation). With `policy` set, record(),
  /// append_audit(), mark_room_written() and the facts an apply learns that
  /// the homeserver also shows (set_room_id, mark_message_sent,
  /// mark_direct_set, record_archive, clear_archive) go into one
  /// transaction, committed when
  /// policy.max_writes are pending or the first is policy.max_age old, by
  /// flush(), and before any other write, turning grouping off, releasing
  /// the lock or closing the store. Reads through this store see the pending
  /// writes; other connections see them once committed.
  /// The bound: a process killed outright (SIGKILL) loses the grouped writes
  /// not yet committed, at most those of its last max_age (given the flush()
  /// calls GroupCommit asks for). Convergence never depends on them: the next pass
  /// finds room ids by alias and marker, sent messages, m.direct and archive
  /// times on the homeserver; a room whose mark_room_written is lost is read
  /// from /sync like any other; and the journal and audit log are a record.
  /// The journal entries that are also an input (journaled_room_creations)
  /// are committed by the executor before it sends any createRoom.
  /// Writes nothing on the homeserver could rebuild are never
  /// left pending: the lock, runs, remember_account, tombstones, suspensions,
  /// protection and observations commit before they return (with whatever
  /// is pending). A failed commit returns an error saying how many grouped
  /// writes were lost. nullopt (the default) commits every call on its own.
  virtual model::Result<void> set_group_commit(std::optional<GroupCommit> policy) = 0;
  /// Commits the pending grouped writes; nothing pending: does nothing.
  virtual model::Result<void> flush() = 0;

  /// Takes the pass lock for `holder` (e.g. "pid 1234 on host"). Fails with
  /// `conflict` naming the holder and when it was taken if another live
  /// process holds it; a lock left by a process that no longer exists (same
  /// host, dead pid) is taken over.
  virtual model::Result<std::unique_ptr<StoreLock>> lock(const std::string& command) = 0;
};

/// Opens (creating and migrating as needed) the SQLite store at `path`
/// (":memory:" for tests). Schema versioned with PRAGMA user_version, WAL mode.
model::Result<std::unique_ptr<StateStore>> open_sqlite_store(const std::string& path);

}  // namespace adapters
