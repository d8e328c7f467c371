#pragma once
// `mxctl run`, the long-running controller (controller/loop/).

#include "controller/commands.h"
#include "controller/loop/run_host.h"

namespace controller {

/// Runs the control loop until SIGTERM or SIGINT (exit 0 once the pass in
/// flight has finished), SIGHUP reloading the config and the desired state.
/// Exits 1 when wiring fails (bad settings, the lock held elsewhere, the
/// desired state not loading at start) or the pass lock is lost.
int run_controller(const RunOptions& options, Console& console);

}  // namespace controller
