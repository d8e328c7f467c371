#pragma once
// One pass of the controller, callable by any program: observe and plan,
// guard (plan errors, the mass-change guard), execute, record the run. Like
// ninja's Builder under ninja.cc, it prints nothing, reads no environment
// and never exits: the command line wires it up and renders what it
// returns, and a test drives it on a fake homeserver without a process.
//
// Two steps, so that a caller can show the plan and ask before anything
// changes: plan() then apply(planned). run() is both, for callers that
// have no one to ask (cron, a long-running controller, tests).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "controller/executor.h"
#include "controller/planner.h"
#include "model/diff.h"
#include "model/result.h"

namespace model {
struct Settings;
}

namespace controller {

class Clock;

/// What a pass does with its plan.
enum class Mode {
  /// Observe and diff only: executes nothing, and keeps only the
  /// observation cache in the store (StoreWrites::cache_only).
  plan,
  /// Carry the plan out; a plan with error changes is refused whole.
  apply,
  /// Carry out what can be carried out (cron); error changes fail the pass.
  reconcile,
};

/// "plan", "apply", "reconcile": the command run history records.
const char* to_string(Mode mode);

/// How one pass runs.
struct ReconcileOptions {
  Mode mode = Mode::reconcile;
  /// Apply only: walk the plan with the executor's no-op port; the run is
  /// recorded, nothing else is written.
  bool dry_run = false;
  model::DiffOptions diff;
  /// How long an archived room is kept before it is deleted.
  int grace_period_days = 60;
  /// The mass-change guard's limits (model::Settings' massChangeMax*).
  int mass_change_max_percent = 20;
  int mass_change_max_count = 100;
  /// Let through a pass the mass-change guard would stop.
  bool allow_mass_change = false;
  /// Most operations in flight at once while executing (the executor's
  /// window adapts below it).
  int max_in_flight = 32;
  /// No operation starts after it; empty: none.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  /// A controller's shutdown flag (ExecutorOptions::stopping); null: none.
  const std::atomic<bool>* stopping = nullptr;
  /// The command the run history records; empty: the mode's name.
  std::string command;
  /// When the mass-change guard objects, carry out the rest of the plan
  /// instead of refusing it whole: a long-running controller keeps
  /// repairing while it holds the destructive changes back and reports them.
  bool hold_back_destructive = false;
  /// Read every room afresh instead of only what changed since the stored
  /// sync token (a long-running controller's periodic resync).
  bool full_observation = false;
};

/// Options for `mode` from `settings`: the diff's (suspension only with
/// Synapse admin provisioning), the grace period and the guard's limits.
ReconcileOptions reconcile_options(const model::Settings& settings, Mode mode);

/// What stops a pass before it executes anything.
enum class Refusal {
  none,
  /// The plan has error changes (apply and plan; reconcile goes on).
  plan_errors,
  /// The mass-change guard objected and allow_mass_change was not given.
  mass_change,
};

/// The guard's verdict on a plan.
struct GuardVerdict {
  /// Changes that cannot be made as desired (Plan::error_count()).
  std::size_t plan_errors = 0;
  /// The mass-change guard's objection; nothing when it has none.
  std::optional<std::string> mass_change;
  /// `mass_change` was let through by allow_mass_change.
  bool mass_change_allowed = false;
  /// What stops this pass, in its mode; plan errors come first.
  Refusal refusal = Refusal::none;
  /// With hold_back_destructive: the changes left out of the plan because
  /// the guard objected (its destructive changes and what depends on them).
  std::size_t held_back = 0;
};

/// What plan() returns and apply() takes.
struct GuardedPlan {
  /// The plan, the observation, the desired state to execute against, and
  /// the cache note of a plan-mode pass.
  PlannedPass planned;
  GuardVerdict guard;
  /// The pass's instant (ms since the epoch) from the clock: the lifecycle
  /// decided with it, and the executor stamps tombstones with it.
  std::int64_t now = 0;
};

/// What apply() did.
struct ApplyOutcome {
  /// The guard's refusal: nothing was executed or written.
  Refusal refused = Refusal::none;
  /// Why nothing was executed otherwise: the run could not be recorded, or
  /// the pass is in plan mode.
  std::optional<model::Error> error;
  /// The executor's report; empty unless the plan was executed.
  std::optional<ApplyReport> report;
  /// Another process took over the pass lock while the plan was executed.
  bool lock_lost = false;

  /// The plan was executed and every operation succeeded.
  bool ok() const { return refused == Refusal::none && !error && report && report->ok(); }
};

/// What run() did.
struct PassOutcome {
  Mode mode = Mode::reconcile;
  /// Why nothing was planned (observation or a store read failed); the
  /// rest is empty then.
  std::optional<model::Error> error;
  std::optional<GuardedPlan> planned;
  /// Empty in plan mode.
  std::optional<ApplyOutcome> applied;

  /// plan: nothing refused; apply: every operation succeeded; reconcile:
  /// that, and the plan had no error changes.
  bool ok() const;
};

/// One pass over a homeserver and a state store.
class Reconciler {
 public:
  /// Reads "now" from `clock` once per plan(). `lock` is the pass lock the
  /// caller holds (apply, reconcile): confirmed before each batch of writes
  /// (the executor's fence) and checked after executing for a takeover;
  /// null when it holds none. All must outlive the reconciler.
  Reconciler(adapters::HomeserverPort& port, adapters::StateStore& store, const Clock& clock,
             ReconcileOptions options, adapters::StoreLock* lock = nullptr);

  const ReconcileOptions& options() const { return m_options; }

  /// Observes, diffs (make_plan: the store kept up to date, or in plan
  /// mode only its observation cache) and judges the plan. Takes `desired`
  /// over. Fails, changing nothing on the homeserver, when observation or
  /// the store does.
  model::Result<GuardedPlan> plan(model::MatrixState&& desired);
  /// plan() with the desired state from `desired`, asked for only when
  /// needed, and with `verdict` the converged verdict (make_plan) in the
  /// modes that hold the lock.
  model::Result<GuardedPlan> plan(const DesiredLoader& desired, const VerdictBasis* verdict);

  /// Executes `planned` unless its guard refuses it: records a run
  /// (begin_run, finish_run "succeeded" or "failed"), runs the executor
  /// with `progress` called as each operation settles, and notes a lost
  /// lock. A refused plan writes nothing; a plan-mode pass executes nothing.
  ApplyOutcome apply(const GuardedPlan& planned, const ProgressCallback& progress = {});

  /// plan() then, unless in plan mode, apply().
  PassOutcome run(model::MatrixState&& desired, const ProgressCallback& progress = {});

 private:
  GuardVerdict judge(const PlannedPass& planned) const;

  adapters::HomeserverPort& m_port;
  adapters::StateStore& m_store;
  const Clock& m_clock;
  const ReconcileOptions m_options;
  adapters::StoreLock* m_lock;
};

}  // namespace controller
