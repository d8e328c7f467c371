#pragma once
// Planning: observe the homeserver afresh and diff it against the desired
// state. Level-triggered: nothing from an earlier pass is trusted beyond the
// hints the store provides to find rooms cheaply.

#include "adapters/homeserver_port.h"
#include "adapters/state_store.h"
#include "model/diff.h"
#include "model/lifecycle.h"
#include "model/matrix_state.h"
#include "model/plan.h"
#include "model/result.h"

namespace controller {

/// A plan and what it was made from.
struct PlannedPass {
  adapters::Observation observation;
  model::Plan plan;
  /// The desired state to execute `plan` against (the lifecycle's: with the
  /// archived forms of rooms no longer declared and suspended accounts).
  model::MatrixState desired;
  /// For the mass-change guard.
  model::MassChangeFacts mass_change;
};

/// Observes `port` (with the store's room ids, sync token and room
/// snapshots as hints, so only changes are read, plus the rooms mxctl wrote
/// to since, which are re-read in full, and the room creations its journal
/// records), adds the store's record of sent messages, saves the new token
/// and snapshots, forgets the rooms written (they were re-read), and diffs. Rooms found are remembered in the
/// store (a lost store is rebuilt here), but nothing on the homeserver
/// changes. The lifecycle (model/lifecycle.h) decides archives, restores,
/// deletions and suspensions with the store's archive times, protection and
/// managed accounts, which this also keeps up to date (protection as
/// declared, accounts found). Fails if observation or the store fails.
/// Takes `desired` over (PlannedPass::desired is it, amended), so a caller
/// that does not need it afterwards pays for no copy of it.
model::Result<PlannedPass> make_plan(model::MatrixState&& desired, adapters::HomeserverPort& port,
                                     adapters::StateStore& store, const model::DiffOptions& options,
                                     const model::LifecycleOptions& lifecycle);

/// make_plan on a copy of `desired`, for callers that keep theirs (for the
/// saved plan's digest, say); the same result as the overload above.
model::Result<PlannedPass> make_plan(const model::MatrixState& desired, adapters::HomeserverPort& port,
                                     adapters::StateStore& store, const model::DiffOptions& options,
                                     const model::LifecycleOptions& lifecycle);

}  // namespace controller
