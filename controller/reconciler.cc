#include "controller/reconciler.h"

#include <utility>

#include "adapters/homeserver_port.h"
#include "adapters/state_store.h"
#include "controller/apply_plan.h"
#include "controller/clock.h"
#include "model/lifecycle.h"
#include "model/matrix_state.h"
#include "model/plan_filter.h"
#include "model/settings.h"

namespace controller {

const char* to_string(Mode mode) {
  switch (mode) {
    case Mode::plan: return "plan";
    case Mode::apply: return "apply";
    case Mode::reconcile: return "reconcile";
  }
  return "reconcile";
}

ReconcileOptions reconcile_options(const model::Settings& settings, Mode mode) {
  ReconcileOptions options;
  options.mode = mode;
  options.diff.bot_user_id = settings.bot_user_id;
  options.diff.reinvite_to_community_rooms = settings.reinvite_to_community_rooms;
  options.diff.reinvite_to_council_rooms = settings.reinvite_to_council_rooms;
  // Suspension needs the Synapse admin API; an appservice cannot do it.
  options.diff.manage_account_status = settings.provisioning == model::ProvisioningMode::synapse_admin;
  // forceJoin joins local members through the admin API: nobody is invited.
  options.diff.invite_with_create_room = !settings.force_join;
  options.grace_period_days = settings.grace_period_days;
  options.mass_change_max_percent = settings.mass_change_max_percent;
  options.mass_change_max_count = settings.mass_change_max_count;
  return options;
}

bool PassOutcome::ok() const {
  if (error || !planned) {
    return false;
  }
  switch (mode) {
    case Mode::plan: return planned->guard.refusal == Refusal::none;
    case Mode::apply: return applied && applied->ok();
    case Mode::reconcile: return applied && applied->ok() && planned->guard.plan_errors == 0;
  }
  return false;
}

Reconciler::Reconciler(adapters::HomeserverPort& port, adapters::StateStore& store, const Clock& clock,
                       ReconcileOptions options, adapters::StoreLock* lock)
    : m_port(port), m_store(store), m_clock(clock), m_options(std::move(options)), m_lock(lock) {}

model::Result<GuardedPlan> Reconciler::plan(model::MatrixState&& desired) {
  return plan([&]() -> model::Result<model::MatrixState> { return std::move(desired); }, nullptr);
}

model::Result<GuardedPlan> Reconciler::plan(const DesiredLoader& desired, const VerdictBasis* verdict) {
  GuardedPlan out;
  // One instant for the whole pass: the lifecycle's decisions and the
  // executor's tombstones must agree on what "now" was.
  out.now = m_clock.now_ms();
  model::LifecycleOptions lifecycle;
  lifecycle.now = out.now;
  lifecycle.grace_period_days = m_options.grace_period_days;
  // Only a pass that may write (and so holds the lock) keeps all it learns.
  const StoreWrites writes = m_options.mode == Mode::plan ? StoreWrites::cache_only : StoreWrites::all;
  // Without a token, observation reads every room in full; the new token
  // is saved with it.
  if (m_options.full_observation && writes == StoreWrites::all) {
    if (auto forgot = m_store.set_sync_token(""); !forgot) {
      return tl::unexpected(forgot.error());
    }
  }
  auto planned = make_plan(desired, verdict, m_port, m_store, m_options.diff, lifecycle, writes);
  if (!planned) {
    return tl::unexpected(planned.error());
  }
  out.planned = std::move(*planned);
  out.guard = judge(out.planned);
  if (out.guard.refusal == Refusal::mass_change && m_options.hold_back_destructive) {
    model::FilteredPlan kept = model::held_back_destructive(out.planned.plan);
    out.guard.held_back = kept.held_back + kept.held_back_dependants;
    out.guard.refusal = Refusal::none;
    out.planned.plan = std::move(kept.plan);
  }
  return out;
}

GuardVerdict Reconciler::judge(const PlannedPass& planned) const {
  GuardVerdict verdict;
  verdict.plan_errors = planned.plan.error_count();
  model::Settings limits;
  limits.mass_change_max_percent = m_options.mass_change_max_percent;
  limits.mass_change_max_count = m_options.mass_change_max_count;
  verdict.mass_change = model::mass_change_refusal(planned.plan, planned.mass_change, limits);
  verdict.mass_change_allowed = verdict.mass_change && m_options.allow_mass_change;
  // Cron cannot ask anyone, so reconcile carries out what it can around
  // error changes; apply (and a plan, showing what apply would do) refuses.
  if (verdict.plan_errors > 0 && m_options.mode != Mode::reconcile) {
    verdict.refusal = Refusal::plan_errors;
  } else if (verdict.mass_change && !verdict.mass_change_allowed) {
    verdict.refusal = Refusal::mass_change;
  }
  return verdict;
}

ApplyOutcome Reconciler::apply(const GuardedPlan& planned, const ProgressCallback& progress) {
  ApplyOutcome out;
  if (m_options.mode == Mode::plan) {
    out.error = model::make_error(model::Error::Kind::invalid, "a plan pass executes nothing");
    return out;
  }
  if (planned.guard.refusal != Refusal::none) {
    out.refused = planned.guard.refusal;
    return out;
  }
  auto run_id = m_store.begin_run(m_options.command.empty() ? to_string(m_options.mode) : m_options.command);
  if (!run_id) {
    out.error = run_id.error();
    return out;
  }
  ExecutorOptions executor;
  executor.max_in_flight = m_options.max_in_flight;
  executor.deadline = m_options.deadline;
  executor.stopping = m_options.stopping;
  executor.now = planned.now;
  if (m_lock != nullptr) {
    executor.fence = [lock = m_lock] { return lock->still_held(); };
  }
  const PlannedPass& pass = planned.planned;
  out.report = m_options.dry_run
                   ? dry_run_plan(pass.plan, pass.desired, executor, pass.observation.room_ids, progress)
                   : apply_plan(pass.plan, pass.desired, m_port, m_store, *run_id, executor,
                                pass.observation.room_ids, progress);
  // The run's row is a record; failing to close it changes nothing the
  // next pass relies on, and the apply itself is done either way.
  (void)m_store.finish_run(*run_id, out.report->ok() ? "succeeded" : "failed",
                           out.report->added + out.report->changed, out.report->failed + out.report->skipped);
  out.lock_lost = m_lock != nullptr && m_lock->lost();
  return out;
}

PassOutcome Reconciler::run(model::MatrixState&& desired, const ProgressCallback& progress) {
  PassOutcome out;
  out.mode = m_options.mode;
  auto planned = plan(std::move(desired));
  if (!planned) {
    out.error = planned.error();
    return out;
  }
  out.planned = std::move(*planned);
  if (m_options.mode != Mode::plan) {
    out.applied = apply(*out.planned, progress);
  }
  return out;
}

}  // namespace controller
