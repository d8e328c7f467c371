#pragma once
// What an apply writes down besides the homeserver: the journal of attempts,
// the audit log, and in the state store the room ids, sent messages, m.direct
// entries and lifecycle records; and the room ids later operations refer to.
// A store that refuses a write costs a warning, not the operation: the
// homeserver was changed regardless and the next pass re-observes it.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "adapters/state_store.h"
#include "controller/executor.h"

namespace model {
struct Operation;
struct Plan;
}

namespace adapters {
struct OperationOutcome;
}

namespace controller {

/// The records of one apply. Not thread-safe: the executor calls it under
/// its lock, except journal_entry, which reads only what never changes.
class ApplyRecords {
 public:
  /// Records of run `run_id` in `store`; a dry run records nothing.
  /// `room_ids` seeds the known room ids; `now` (ms since the epoch) stands
  /// in for the clock in tombstones, empty: the system clock.
  ApplyRecords(adapters::StateStore& store, const model::MatrixState& desired, std::int64_t run_id, bool dry_run,
               std::optional<std::int64_t> now, std::map<std::string, std::string> room_ids);

  /// The room ids `operation` can refer to: its room, the room at the other
  /// end of a link, and its room's parent, children and allowed spaces.
  std::map<std::string, std::string> ids_for(const model::Operation& operation) const;
  /// A journal row for one attempt at the operation described as
  /// `description`, stamped now; not yet written.
  adapters::JournalEntry journal_entry(const std::string& description, OperationReport::Status status, int attempt,
                                       std::string errcode, std::string message) const;
  /// Writes `entry` to the journal.
  void journal(const adapters::JournalEntry& entry);
  /// Makes what a successful operation produced available: a created room's
  /// id to later operations and the store; sent messages, m.direct entries,
  /// managed accounts, archives, tombstones and the rooms written (which the
  /// next observation re-reads in full) to the store.
  void remember(const model::Operation& operation, const adapters::OperationOutcome& outcome);
  /// Journals each room `plan` sets out to create ("planned", attempt 0) and
  /// commits that at once, before any createRoom is sent: Synapse registers
  /// a new room's alias before its marker is readable, and a pass that finds
  /// such a room after this apply was killed knows from these that it may be
  /// its own.
  void journal_creations(const model::Plan& plan);
  /// One audit entry for a settled operation: what, on which key and id,
  /// before and after, and how it ended.
  void audit(const model::Operation& operation, OperationReport::Status status, const std::string& message);
  /// Adds a warning of the apply.
  void warn(std::string warning) { m_warnings.push_back(std::move(warning)); }
  /// The warnings so far, handed over (none are left behind).
  std::vector<std::string> take_warnings() { return std::move(m_warnings); }

 private:
  void remember_lifecycle(const model::Operation& operation);
  void remember_room_written(const model::Operation& operation, const adapters::OperationOutcome& outcome);
  std::string room_id_of(const std::string& key) const;
  std::int64_t now_ms() const;

  adapters::StateStore& m_store;
  const model::MatrixState& m_desired;
  const std::int64_t m_run_id;
  const bool m_dry_run;
  const std::optional<std::int64_t> m_now;
  std::map<std::string, std::string> m_room_ids;
  /// Rooms recorded as written by this apply (each once).
  std::set<std::string> m_rooms_written;
  std::vector<std::string> m_warnings;
};

}  // namespace controller
