#pragma once
// What an apply reports: how each operation ended, the totals per status
// and per resource, and terraform's closing line. Filled by the executor,
// printed by the commands; nothing here runs anything.

#include <cstddef>
#include <string>
#include <vector>

namespace model {
struct Plan;
}

namespace controller {

/// What became of one operation.
struct OperationReport {
  enum class Status {
    succeeded,     ///< carried out
    already_done,  ///< the homeserver said the work was already done; nothing written
    failed,        ///< failed for good (terminal error, or retries used up)
    skipped,       ///< not attempted: something it depends on failed
    would_run,     ///< dry run: its dependencies would have run and so would it
  };

  /// Index into Plan::operations.
  std::size_t index = 0;
  /// model::describe(operation).
  std::string description;
  Status status = Status::skipped;
  /// Calls made to the homeserver (0 when skipped or in a dry run).
  int attempts = 0;
  /// Empty unless failed or skipped. For failed: "<kind>: <message>" of the
  /// last attempt (the message carries the errcode, secrets redacted); for
  /// skipped: which failed operation it waited on.
  std::string error;
  /// The id of the room the operation is about, once known (a room the
  /// operation created included); empty for accounts and unknown rooms.
  std::string room_id;
};

/// "succeeded", "already_done", "failed", "skipped", "would_run".
const char* to_string(OperationReport::Status status);

/// The statuses that let an operation's dependents run: succeeded,
/// already_done and would_run.
bool lets_dependents_run(OperationReport::Status status);

/// The outcome of a whole apply.
struct ApplyReport {
  /// One report per operation, in plan order (operations[i].index == i).
  std::vector<OperationReport> operations;
  /// Operations per status; they add up to operations.size().
  int succeeded = 0;
  int already_done = 0;
  int failed = 0;
  int skipped = 0;
  int would_run = 0;
  /// Operations that needed more than one attempt (whatever their outcome).
  int retried = 0;
  /// Attempts beyond each operation's first, summed: the repeated requests.
  int repeated_attempts = 0;
  /// The fewest attempts the apply allowed at once: below where the window
  /// started when the homeserver rate-limited it or its latency rose.
  int narrowest_window = 0;
  /// The most attempts the apply allowed at once: above where the window
  /// started when the server's latency held with more in flight.
  int widest_window = 0;
  /// Resource changes (Plan::changes, errors excluded) all of whose
  /// operations succeeded, were already done, or in a dry run would run,
  /// by action. `destroyed` stays 0 until plans can destroy.
  int added = 0;
  int changed = 0;
  int destroyed = 0;
  /// Resource changes with at least one failed or skipped operation.
  int incomplete = 0;
  /// Problems that did not stop the apply, such as a journal write the store
  /// refused or a created room whose id could not be saved; the homeserver
  /// was changed regardless and the next pass re-observes it.
  std::vector<std::string> warnings;

  /// No operation failed or was skipped.
  bool ok() const { return failed == 0 && skipped == 0; }
};

/// Fills the totals of `report` (per status, retries, per resource change
/// of `plan`) from report.operations; narrowest_window and warnings are
/// left alone. A change naming an operation the report lacks is incomplete.
void count_outcomes(ApplyReport& report, const model::Plan& plan);

/// Terraform's closing line:
///   "Apply complete! Resources: 1 added, 2 changed, 0 destroyed."
///   "Apply failed: 1 operation failed, 3 skipped. Resources: 0 added, 1 changed, 0 destroyed."
///   "Dry run: nothing was applied. Resources: 1 to add, 2 to change, 0 to destroy."
std::string apply_summary(const ApplyReport& report, bool dry_run);

}  // namespace controller
