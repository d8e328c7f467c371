#pragma once
// Planning: observe the homeserver afresh and diff it against the desired
// state. Level-triggered: nothing from an earlier pass is trusted beyond the
// hints the store provides to find rooms cheaply.

#include "adapters/homeserver_port.h"
#include "adapters/state_store.h"
#include "model/diff.h"
#include "model/matrix_state.h"
#include "model/plan.h"
#include "model/result.h"

namespace controller {

/// A plan and what it was made from.
struct PlannedPass {
  adapters::Observation observation;
  model::Plan plan;
};

/// Observes `port` (with the store's room ids, sync token and room
/// snapshots as hints, so only changes are read), adds the store's record of
/// sent messages, saves the new token and snapshots, and diffs. Rooms found are remembered in the
/// store (a lost store is rebuilt here), but nothing on the homeserver
/// changes. Fails if observation or the store fails.
model::Result<PlannedPass> make_plan(const model::MatrixState& desired, adapters::HomeserverPort& port,
                                     adapters::StateStore& store, const model::DiffOptions& options);

}  // namespace controller
