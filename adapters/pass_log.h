#pragma once
// The pass log role of the state store: what each pass did, as a record for
// the operator (runs, the per-attempt journal, the audit log). Nothing on
// the homeserver holds it, but only journaled_room_creations() steers a later
// pass; the rest is read by people (`mxctl audit`), never by the planner.

#include <chrono>
#include <cstdint>
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
  /// "running", "succeeded", "failed"; "interrupted" when a later pass
  /// found it still running.
  std::string outcome;
  int changes_applied = 0;
  int failures = 0;
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

/// Run history, the journal of attempts and the audit log.
class PassLog {
 public:
  virtual ~PassLog() = default;

  /// Starts a run of `command`, outcome "running"; returns its id (never reused).
  virtual model::Result<std::int64_t> begin_run(const std::string& command) = 0;
  /// Records the end of a run now; `not_found` when there is no such run.
  virtual model::Result<void> finish_run(std::int64_t run_id, const std::string& outcome, int changes_applied,
                                         int failures) = 0;
  /// The `limit` most recent runs, newest first; all of them when negative.
  virtual model::Result<std::vector<RunRecord>> runs(int limit) = 0;

  /// Appends `entry` to its run's journal; `not_found` when the run does not exist.
  virtual model::Result<void> record(const JournalEntry& entry) = 0;
  /// The journal of `run_id` in the order recorded; empty for an unknown run.
  virtual model::Result<std::vector<JournalEntry>> journal(std::int64_t run_id) = 0;
  /// Keys of the rooms whose creation the journal records ("create room
  /// <key>" in any run, whatever its result): a room holding such a key's
  /// alias that the bot created may be mxctl's own, made by a pass that ended
  /// before it could see the marker.
  virtual model::Result<std::set<std::string>> journaled_room_creations() = 0;

  /// Appends to the audit log.
  virtual model::Result<void> append_audit(const AuditEntry& entry) = 0;
  /// The audit log in the order written, filtered by `query`.
  virtual model::Result<std::vector<AuditEntry>> audit(const AuditQuery& query) = 0;
};

}  // namespace adapters
