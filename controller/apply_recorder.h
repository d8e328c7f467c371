#pragma once
// What the executor tells about an apply as it walks the plan: every attempt
// (the journal), every settled operation (the audit log), what succeeded
// operations produced (room ids, sent messages, lifecycle records). The
// executor schedules; a recorder decides what of it is kept. An apply keeps
// it in the state store (StoreRecorder, apply_records.h); a dry run keeps
// nothing (NullRecorder), as ninja's dry run swaps the runner, not the build.

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "adapters/state_store.h"
#include "controller/apply_report.h"
#include "controller/known_room_ids.h"

namespace model {
struct MatrixState;
struct Operation;
struct Plan;
}  // namespace model

namespace adapters {
struct OperationOutcome;
}

namespace controller {

/// Receives the apply's records. The executor calls it under its lock (one
/// call at a time), except journal_entry, which may run on any worker.
class ApplyRecorder {
 public:
  virtual ~ApplyRecorder() = default;

  /// Before any operation of `plan` is attempted.
  virtual void begin(const model::Plan& plan) = 0;
  /// The room ids `operation` can refer to (KnownRoomIds::ids_for), created
  /// rooms included once remember() was told of them.
  virtual std::map<std::string, std::string> ids_for(const model::Operation& operation) const = 0;
  /// A journal row for one attempt at the operation described as
  /// `description`, stamped now; not yet written. Thread-safe.
  virtual adapters::JournalEntry journal_entry(const std::string& description, OperationReport::Status status,
                                               int attempt, std::string errcode, std::string message) const = 0;
  /// Writes `entry` (from journal_entry) to the journal.
  virtual void journal(const adapters::JournalEntry& entry) = 0;
  /// What a successful `operation` produced, such as a created room's id.
  virtual void remember(const model::Operation& operation, const adapters::OperationOutcome& outcome) = 0;
  /// `operation` settled with `status`; `message` is its report's error.
  virtual void audit(const model::Operation& operation, OperationReport::Status status,
                     const std::string& message) = 0;
  /// Called at commit_interval() while the walk runs, even when nothing is
  /// recorded meanwhile: commits what is due.
  virtual void commit_due() = 0;
  /// After the last operation settled: everything recorded is kept.
  virtual void finish() = 0;
  /// Problems recording ran into, handed over (none are left behind).
  virtual std::vector<std::string> take_warnings() = 0;
};

/// How often the executor calls commit_due(): the state store's group
/// commit age (adapters::GroupCommit::max_age).
std::chrono::milliseconds commit_interval();

/// Records nothing: a dry run's recorder. It still learns the room ids of
/// created rooms an outcome carries, so that later operations can name them.
class NullRecorder final : public ApplyRecorder {
 public:
  /// Knows `room_ids` to begin with. `desired` must outlive this.
  NullRecorder(const model::MatrixState& desired, std::map<std::string, std::string> room_ids);

  void begin(const model::Plan&) override {}
  std::map<std::string, std::string> ids_for(const model::Operation& operation) const override;
  /// An empty row: nothing will write it.
  adapters::JournalEntry journal_entry(const std::string&, OperationReport::Status, int, std::string,
                                       std::string) const override {
    return {};
  }
  void journal(const adapters::JournalEntry&) override {}
  void remember(const model::Operation& operation, const adapters::OperationOutcome& outcome) override;
  void audit(const model::Operation&, OperationReport::Status, const std::string&) override {}
  void commit_due() override {}
  void finish() override {}
  std::vector<std::string> take_warnings() override { return {}; }

 private:
  KnownRoomIds m_room_ids;
};

}  // namespace controller
