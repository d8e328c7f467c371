#pragma once
// What the commands wire a pass from: the settings and the environment, the
// desired state, the state store and its lock, the HTTP homeserver and the
// clock; and what follows a pass outside it (write-back to the app
// database). Problems are printed here as they are found, cheapest first,
// so that a pass with bad input never connects to anything.

#include <memory>
#include <optional>

#include "adapters/appdb/desired_source.h"
#include "adapters/homeserver/http_homeserver.h"
#include "adapters/manifests/settings_file.h"
#include "adapters/state_store.h"
#include "controller/clock.h"
#include "controller/converged_verdict.h"
#include "controller/commands.h"
#include "controller/pass_output.h"
#include "controller/reconciler.h"
#include "controller/saved_plan.h"
#include "model/matrix_state.h"

namespace controller {

/// Everything one pass is wired from.
struct PassWiring {
  PassTimes times = start_pass_times();
  adapters::LoadedSettings settings;
  /// What the desired state was compiled from; the topology is kept only
  /// for write-back (at instance scale it is tens of MB). Empty when the
  /// compiled state was recalled from the store (controller/desired_cache.h).
  adapters::LoadedDesired source;
  /// The compiled desired state, until the reconciler's plan() takes it;
  /// empty while the store keeps it (take_desired).
  model::MatrixState desired;
  /// The store keeps the state compiled from these inputs (under the
  /// verdict's digest): take_desired reads it. `manifests` are what it was
  /// compiled from, compiled again should it be gone or not decode.
  bool desired_kept = false;
  adapters::ManifestTexts manifests;
  /// What the converged verdict is keyed by: set when the inputs have a
  /// digest (manifests only).
  std::optional<VerdictBasis> verdict;
  std::unique_ptr<adapters::StateStore> store;
  /// Empty in plan mode, which takes no lock.
  std::unique_ptr<adapters::StoreLock> lock;
  std::unique_ptr<adapters::HttpHomeserver> homeserver;
  /// `--now`, else the system clock.
  std::unique_ptr<Clock> clock;
};

/// `apply`'s pass options: its own, or with `--plan FILE` the saved plan's
/// (read into `saved`). Nothing, with the problem printed, when they
/// conflict, the plan cannot be read, or no input is named.
std::optional<PassOptions> apply_inputs(const ApplyOptions& options, std::optional<SavedPlan>& saved,
                                        Console& console);

/// Loads and compiles (or recalls the state compiled from the same
/// manifests and settings, see controller/desired_cache.h), opens the store (read-only if need be in plan mode),
/// takes the lock (not in plan mode; a takeover is warned about), connects
/// and probes. `reads_only`: a plan or dry run, whose client refuses to
/// send any write. Null, with the problem printed, when any step fails.
std::unique_ptr<PassWiring> wire_pass(const PassOptions& options, Mode mode, bool reads_only, Console& console);

/// The pass's desired state, decoded (or compiled afresh and kept in place
/// of kept bytes that do not decode) if the store held it encoded. Once only: it is
/// moved out of `pass`. An error says what was wrong with the manifests.
model::Result<model::MatrixState> take_desired(PassWiring& pass);

/// A reconciler over `pass` in `mode`, with the options from its settings
/// and the command line; the pass deadline counts from the start of the
/// pass, loading included.
Reconciler reconciler_for(PassWiring& pass, const PassOptions& options, Mode mode, bool dry_run = false);

/// After a successful apply: the app database learns the Matrix ids.
/// False (with the error printed) when that fails.
bool write_back(const PassWiring& pass, const PassOptions& options, Console& console);

}  // namespace controller
