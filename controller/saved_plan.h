#pragma once
// Saved plans (`plan --out FILE`, `apply --plan FILE`): a reviewer approves
// exactly what will be done. A saved plan records the manifests and the app
// database it was made from, a digest of the desired state and the plan itself; apply recompiles
// and re-plans, and refuses when either differs ("saved plan is stale").

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/matrix_state.h"
#include "model/plan.h"
#include "model/result.h"

namespace controller {

struct SavedPlan {
  /// Manifest paths as given to `plan`.
  std::vector<std::string> paths;
  /// Digest of the desired state the plan was made from.
  std::string desired_digest;
  /// The plan as render_plan_json renders it.
  std::string plan_json;
  /// The app database (`--from-db`); written without its password
  /// (adapters::strip_database_password). Empty when the plan was made from
  /// manifests alone.
  std::string from_db;
  /// The `--now` the plan was made with (ms since the epoch), so that
  /// `apply --plan` decides archive dates and deletions at the same instant
  /// the reviewer saw; empty when the plan used the real clock.
  std::optional<std::int64_t> now;
};

/// A stable digest (hex) of a desired state.
std::string digest(const model::MatrixState& desired);

/// Writes `saved` to `path` (atomically: temp file then rename), created
/// with mode 0600 whatever the umask allows.
model::Result<void> write_saved_plan(const std::string& path, const SavedPlan& saved);

/// Reads a saved plan; `invalid` if the file is not one.
model::Result<SavedPlan> read_saved_plan(const std::string& path);

/// The database `apply --plan` must read: the saved one, or `given` (the
/// `--from-db` of the apply) when that names the same database once
/// passwords are stripped, which is one way to supply the password the saved
/// plan left out. `invalid` when they differ, or when the saved
/// plan had no database and one is given.
model::Result<std::string> database_of(const SavedPlan& saved, const std::string& given);

/// Nothing when `fresh` (made now from the same inputs, whose desired
/// state has digest `desired_digest`) matches `saved` in all but its
/// warnings; otherwise a
/// `conflict` error saying what changed.
model::Result<void> check_not_stale(const SavedPlan& saved, const std::string& desired_digest,
                                    const model::Plan& fresh);

}  // namespace controller
