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
  /// "ok", "already_done", "failed", "skipped".
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

/// Held while a pass runs; released (lock row deleted) when destroyed.
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
