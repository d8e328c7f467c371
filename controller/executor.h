#pragma once
// Applying a plan: the executor walks Plan::operations as a dependency graph,
// runs every operation whose dependencies have succeeded (several at once, up
// to a bound), retries the retryable failures, skips whatever depends on a
// failure, and records every attempt in the state store's journal. Like
// ninja's builder it keeps going past a failure: everything that does not
// depend on it still runs, so one forbidden invite does not stop a pass.
// Dry runs go through the same walk with a no-op port (DESIGN.md, "Plan and
// apply"), so what a dry run reports is what apply would attempt.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "controller/retry.h"

namespace model {
struct MatrixState;
struct Plan;
}  // namespace model

namespace adapters {
class HomeserverPort;
class StateStore;
}  // namespace adapters

namespace controller {

/// How to apply.
struct ExecutorOptions {
  /// Operations running at once (retry waits included: a rate-limited
  /// operation holds its slot, which slows the pass down as the server
  /// asked). Values below 1 mean 1.
  int max_in_flight = 8;
  /// When and how long to wait before repeating a retryable failure.
  RetryPolicy retry;
  /// Walk the plan with a no-op port: nothing is executed or written to the
  /// store, every runnable operation is reported as would_run.
  bool dry_run = false;
  /// Waits between attempts; empty means sleep_for_real. Called from worker
  /// threads, possibly several at once.
  Sleeper sleep;
  /// Seed of the jitter; operation i draws from JitterEngine(seed + i), so
  /// delays do not depend on thread scheduling. Empty: a random seed.
  std::optional<std::uint64_t> jitter_seed;
  /// The pass's clock (ms since the epoch) for tombstones' deletion time;
  /// empty: the system clock. Audit entries always carry the real time.
  std::optional<std::int64_t> now;
};

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
};

/// "succeeded", "already_done", "failed", "skipped", "would_run".
const char* to_string(OperationReport::Status status);

/// Called once per operation as it settles, in the order operations settle,
/// one call at a time but from whichever thread settled it (a worker, or the
/// thread that called execute_plan). Workers wait while it runs, so it
/// should be quick; it must not call back into the executor.
using ProgressCallback = std::function<void(const OperationReport&)>;

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

/// Terraform's closing line:
///   "Apply complete! Resources: 1 added, 2 changed, 0 destroyed."
///   "Apply failed: 1 operation failed, 3 skipped. Resources: 0 added, 1 changed, 0 destroyed."
///   "Dry run: nothing was applied. Resources: 1 to add, 2 to change, 0 to destroy."
std::string apply_summary(const ApplyReport& report, bool dry_run);

/// Carries out `plan` against `port`, recording every attempt in `store`'s
/// journal under `run_id` (the caller begins and finishes the run).
/// - An operation starts once every operation in its depends_on succeeded
///   (or was already done), at most options.max_in_flight at once, lowest
///   plan index first among those ready, and never while an operation
///   writing to one of its rooms (rooms_written) runs: Synapse forks a room
///   written to concurrently. Invites to one server wait for the first of
///   them to get through (write_scheduler.h).
/// - An invite failing as `unreachable` is not retried; the other invites
///   to users on that server are skipped without a request ("skipped:
///   server X unreachable"), and one warning names the server, the error
///   and how many were skipped.
/// - Retryable failures are repeated per options.retry; a failure that
///   stays is `failed`, and every operation depending on it, transitively,
///   is `skipped` (journalled with attempt 0). Everything else still runs.
/// - Room ids returned by create_room are added to the ExecutionContext of
///   every operation started afterwards (each gets a snapshot, so `port`
///   never sees a map being written) and saved with store.set_room_id as
///   they arrive; a successful send_message calls store.mark_message_sent.
///   `known_room_ids` seeds that map (the store's and the observer's).
/// - A depends_on naming a missing operation or the operation itself makes
///   the operation fail as an invalid plan; operations caught in a cycle are
///   skipped. Error changes in the plan have no operations and are not the
///   executor's concern: callers refuse to apply such plans.
/// - Unless it is a dry run, the store groups its writes meanwhile
///   (StateStore::set_group_commit with the default GroupCommit), and
///   everything recorded is committed before execute_plan returns.
/// `port` must accept concurrent execute() calls when max_in_flight > 1;
/// `store` is only ever called from one thread at a time. Store failures
/// become ApplyReport::warnings. Never throws for a port that does not;
/// an exception from `port` counts as a terminal failure of that operation.
/// Blocks until every operation has settled.
ApplyReport execute_plan(const model::Plan& plan, const model::MatrixState& desired, adapters::HomeserverPort& port,
                         adapters::StateStore& store, std::int64_t run_id, const ExecutorOptions& options,
                         std::map<std::string, std::string> known_room_ids, ProgressCallback progress = {});

}  // namespace controller
