#pragma once
// Applying a plan: the executor walks Plan::operations as a dependency graph,
// runs every operation whose dependencies have succeeded (several at once, up
// to a bound), retries the retryable failures, skips whatever depends on a
// failure, and tells a recorder about every attempt. Like ninja's builder it
// keeps going past a failure: everything that does not depend on it still
// runs, so one forbidden invite does not stop a pass. It only schedules: what
// is attempted is the port's business and what is kept the recorder's, so a
// dry run is the same walk with a no-op port and a recorder that keeps
// nothing (apply_plan.h), and reports what apply would attempt.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>

#include "controller/apply_report.h"
#include "controller/retry.h"

namespace model {
struct MatrixState;
struct Plan;
}  // namespace model

namespace adapters {
class HomeserverPort;
}  // namespace adapters

namespace controller {

class ApplyRecorder;

/// How to apply.
struct ExecutorOptions {
  /// Operations running at once at most (retry waits included: a
  /// rate-limited operation holds its worker). Values below 1 mean 1.
  int max_in_flight = 32;
  /// Attempts in flight at first; the window then opens while the server's
  /// latency holds and closes when it rises or 429s come
  /// (concurrency_window.h), within 1 .. max_in_flight.
  int start_in_flight = 2;
  /// When and how long to wait before repeating a retryable failure.
  RetryPolicy retry;
  /// Waits between attempts; empty means sleep_for_real. Called from worker
  /// threads, possibly several at once.
  Sleeper sleep;
  /// Seed of the jitter; operation i draws from JitterEngine(seed + i), so
  /// delays do not depend on thread scheduling. Empty: a random seed.
  std::optional<std::uint64_t> jitter_seed;
  /// The pass's clock (ms since the epoch) for tombstones' deletion time,
  /// read by apply_plan's recorder; empty: the system clock. Audit entries
  /// always carry the real time.
  std::optional<std::int64_t> now;
  /// The pass deadline: no operation starts after it (the rest are
  /// skipped), and no retry is waited for past it. Empty: none.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  /// Set by a controller shutting down: from then on, like a passed
  /// deadline, no operation starts and no retry is waited for, while the
  /// operations in flight finish. Null: never.
  const std::atomic<bool>* stopping = nullptr;
  /// Whether this process may still write: a replica confirming it still
  /// holds the pass lock. Asked, with the executor's lock held, before each
  /// operation starts (its attempts are its batch of writes); once it says
  /// no, no operation starts again (each is skipped, saying why), while
  /// those in flight finish. Empty: never asked.
  std::function<bool()> fence;
};

/// Called once per operation as it settles, in the order operations settle,
/// one call at a time but from whichever thread settled it (a worker, or the
/// thread that called execute_plan). Workers wait while it runs, so it
/// should be quick; it must not call back into the executor.
using ProgressCallback = std::function<void(const OperationReport&)>;

/// Carries out `plan` against `port`, telling `recorder` of every attempt,
/// settlement and success (apply_recorder.h says when).
/// - An operation starts once every operation in its depends_on succeeded
///   (or was already done, or would run), at most options.max_in_flight at
///   once, lowest plan index first among those ready, and never while an
///   operation writing to one of its rooms (rooms_written) runs: Synapse
///   forks a room written to concurrently. Invites to one server wait for
///   the first of them to get through (write_scheduler.h).
/// - An invite failing as `unreachable` is not retried; the other invites
///   to users on that server are skipped without a request ("skipped:
///   server X unreachable"), and one warning names the server, the error
///   and how many were skipped.
/// - Retryable failures are repeated per options.retry (rate limits waited
///   out, with fewer attempts in flight while they last); a failure that
///   stays is `failed`, and every operation depending on it, transitively,
///   is `skipped` (journalled with attempt 0). Everything else still runs.
/// - After options.deadline no operation starts (each is `skipped`, saying
///   so) and a retry that would come after it is not made (`failed`).
/// - Each operation's ExecutionContext carries recorder.ids_for(it), taken
///   when it starts (a snapshot, so `port` never sees a map being written).
/// - A depends_on naming a missing operation or the operation itself makes
///   the operation fail as an invalid plan; operations caught in a cycle are
///   skipped. Error changes in the plan have no operations and are not the
///   executor's concern: callers refuse to apply such plans.
/// `port` must accept concurrent execute() calls when max_in_flight > 1.
/// The recorder's warnings end up in ApplyReport::warnings. Never throws for
/// a port that does not; an exception from `port` counts as a terminal
/// failure of that operation. Blocks until every operation has settled.
ApplyReport execute_plan(const model::Plan& plan, const model::MatrixState& desired, adapters::HomeserverPort& port,
                         ApplyRecorder& recorder, const ExecutorOptions& options, ProgressCallback progress = {});

}  // namespace controller
