#pragma once
// Planning: observe the homeserver afresh and diff it against the desired
// state. Level-triggered: nothing from an earlier pass is trusted beyond the
// hints the store provides to find rooms cheaply.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "adapters/homeserver_port.h"
#include "adapters/state_store.h"
#include "controller/converged_verdict.h"
#include "model/diff.h"
#include "model/lifecycle.h"
#include "model/matrix_state.h"
#include "model/plan.h"
#include "model/result.h"

namespace controller {

/// What planning may write to the state store.
enum class StoreWrites {
  /// A pass holding the lock (apply, reconcile): everything it learns, and
  /// a write that fails fails the plan.
  all,
  /// A reader without the lock (plan): only the observation cache (room
  /// ids found, sync token and snapshots, messages and m.direct entries
  /// seen), in one transaction and only while no pass holds the lock. Not
  /// being able to save it is noted (PlannedPass::cache_note), never an
  /// error: the next pass reads from the homeserver what was not kept.
  cache_only,
};

/// A plan and what it was made from.
struct PlannedPass {
  adapters::Observation observation;
  model::Plan plan;
  /// The desired state to execute `plan` against (the lifecycle's: with the
  /// archived forms of rooms no longer declared and suspended accounts).
  model::MatrixState desired;
  /// For the mass-change guard.
  model::MassChangeFacts mass_change;
  /// How many rooms carry this instance's marker when the store knew none
  /// of them (it is new, was emptied, or belongs to another deployment):
  /// this pass rebuilds it from the markers. Nothing when it knew any.
  std::optional<std::size_t> store_reset;
  /// The converged verdict answered the pass: nothing the last pass read
  /// has changed, so the plan is empty and was not made.
  bool unchanged = false;
  /// Why a cache_only pass kept nothing (read-only store, a pass holding
  /// the lock, a failed write); empty when the cache was saved.
  std::string cache_note;
};

/// The desired state of a pass, asked for only when a plan needs it (a pass
/// the converged verdict answers does not): an error is the plan's.
using DesiredLoader = std::function<model::Result<model::MatrixState>()>;

/// Observes `port` (with the store's room ids, sync token and room
/// snapshots as hints, so only changes are read — the snapshots not read
/// when the port holds the state behind the token itself — plus the rooms mxctl wrote
/// to since, which are re-read in full, and the room creations its journal
/// records), adds the store's record of sent messages, and diffs. The
/// lifecycle (model/lifecycle.h) decides archives, restores, deletions and
/// suspensions with the store's archive times, protection and managed
/// accounts and what the rooms' markers and archive events say. With
/// StoreWrites::all it keeps the store up to date: room ids found (a lost
/// store is rebuilt here), the new token and snapshots, the rooms re-read
/// forgotten, protection as declared, accounts found; nothing on the
/// homeserver changes. Fails if observation fails, or a store read (or,
/// with StoreWrites::all, a write) does. Takes `desired` over
/// (PlannedPass::desired is it, amended), so a caller that does not need it
/// afterwards pays for no copy of it.
model::Result<PlannedPass> make_plan(model::MatrixState&& desired, adapters::HomeserverPort& port,
                                     adapters::StateStore& store, const model::DiffOptions& options,
                                     const model::LifecycleOptions& lifecycle,
                                     StoreWrites writes = StoreWrites::all);

/// make_plan with the desired state from `desired`, and with `verdict`
/// (StoreWrites::all only) the converged verdict (converged_verdict.h): when
/// the store keeps one whose key matches this pass's inputs and the port
/// says nothing it read has changed, the plan is empty, the new sync token
/// is saved, and `desired` is not called; and a pass that finds nothing to
/// do and changes nothing in the store keeps its verdict for the next.
model::Result<PlannedPass> make_plan(const DesiredLoader& desired, const VerdictBasis* verdict,
                                     adapters::HomeserverPort& port, adapters::StateStore& store,
                                     const model::DiffOptions& options, const model::LifecycleOptions& lifecycle,
                                     StoreWrites writes = StoreWrites::all);

/// make_plan on a copy of `desired`, for callers that keep theirs (for the
/// saved plan's digest, say); the same result as the overload above.
model::Result<PlannedPass> make_plan(const model::MatrixState& desired, adapters::HomeserverPort& port,
                                     adapters::StateStore& store, const model::DiffOptions& options,
                                     const model::LifecycleOptions& lifecycle,
                                     StoreWrites writes = StoreWrites::all);

}  // namespace controller
