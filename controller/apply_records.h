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
#include "controller/apply_recorder.h"
#include "controller/known_room_ids.h"

namespace model {
struct Operation;
struct Plan;
}

namespace adapters {
struct OperationOutcome;
}

namespace controller {

/// The records of one apply, kept in the state store. Not thread-safe
/// (ApplyRecorder says how the executor calls it).
class StoreRecorder final : public ApplyRecorder {
 public:
  /// Records of run `run_id` in `store`. `room_ids` seeds the known room
  /// ids; `now` (ms since the epoch) stands in for the clock in tombstones,
  /// empty: the system clock. `store` and `desired` must outlive this.
  StoreRecorder(adapters::StateStore& store, const model::MatrixState& desired, std::int64_t run_id,
                std::optional<std::int64_t> now, std::map<std::string, std::string> room_ids);

  /// Groups the store's writes (StateStore::set_group_commit with the
  /// default GroupCommit) and journals each room `plan` sets out to create
  /// ("planned", attempt 0), committed at once, before any createRoom is
  /// sent: Synapse registers a new room's alias before its marker is
  /// readable, and a pass that finds such a room after this apply was killed
  /// knows from these that it may be its own.
  void begin(const model::Plan& plan) override;
  std::map<std::string, std::string> ids_for(const model::Operation& operation) const override;
  adapters::JournalEntry journal_entry(const std::string& description, OperationReport::Status status, int attempt,
                                       std::string errcode, std::string message) const override;
  void journal(const adapters::JournalEntry& entry) override;
  /// Makes what a successful operation produced available: a created room's
  /// id to later operations and the store; sent messages, m.direct entries,
  /// managed accounts, archives, tombstones and the rooms written (which the
  /// next observation re-reads in full) to the store.
  void remember(const model::Operation& operation, const adapters::OperationOutcome& outcome) override;
  /// One audit entry: what, on which key and id, before and after, and how
  /// it ended.
  void audit(const model::Operation& operation, OperationReport::Status status, const std::string& message) override;
  /// Commits the store's pending grouped writes (StateStore::flush).
  void commit_due() override;
  /// Ends the grouping: everything recorded is committed.
  void finish() override;
  std::vector<std::string> take_warnings() override { return std::move(m_warnings); }

 private:
  void journal_creations(const model::Plan& plan);
  void remember_lifecycle(const model::Operation& operation);
  void remember_room_written(const model::Operation& operation, const adapters::OperationOutcome& outcome);
  std::int64_t now_ms() const;

  adapters::StateStore& m_store;
  const model::MatrixState& m_desired;
  const std::int64_t m_run_id;
  const std::optional<std::int64_t> m_now;
  KnownRoomIds m_room_ids;
  /// Rooms recorded as written by this apply (each once).
  std::set<std::string> m_rooms_written;
  std::vector<std::string> m_warnings;
};

}  // namespace controller
