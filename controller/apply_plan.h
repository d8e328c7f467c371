#pragma once
// The two ways a command walks a plan: apply it (the homeserver's port, the
// state store keeping the records) or dry-run it (a port that only pretends,
// a recorder that keeps nothing). Both are the executor's one walk, so what
// a dry run reports is what apply would attempt.

#include <cstdint>
#include <map>
#include <string>

#include "controller/executor.h"

namespace adapters {
class StateStore;
}

namespace controller {

/// Carries out `plan` against `port` (execute_plan), keeping the records in
/// `store` under run `run_id`: the caller begins and finishes the run. The
/// store groups its writes meanwhile; everything recorded is committed
/// before this returns. `known_room_ids` seeds the room ids operations
/// refer to (the store's and the observer's); created rooms' ids are added
/// and saved as they arrive. `store` is only called from one thread at a
/// time; its failures become ApplyReport::warnings.
ApplyReport apply_plan(const model::Plan& plan, const model::MatrixState& desired, adapters::HomeserverPort& port,
                       adapters::StateStore& store, std::int64_t run_id, const ExecutorOptions& options,
                       std::map<std::string, std::string> known_room_ids, ProgressCallback progress = {});

/// Walks `plan` as apply_plan would, but sends nothing and records nothing:
/// every operation that would start is would_run with no attempts (as is
/// what depends on it); the deadline still skips what would start late.
ApplyReport dry_run_plan(const model::Plan& plan, const model::MatrixState& desired, const ExecutorOptions& options,
                         std::map<std::string, std::string> known_room_ids, ProgressCallback progress = {});

}  // namespace controller
