#pragma once
// The long-running controller (`mxctl run`) measured from outside: the
// instance applied cold, the loop started on it, managed rooms renamed
// through the client API as drift, and the time, requests and passes until
// each name is back; then the loop left idle; then, on S, many repairs in a
// row to see whether its resident set grows.

#include <chrono>

#include "bench/instance.h"
#include "bench/results.h"
#include "bench/scenario.h"

namespace bench {

/// How much of it to run.
struct LoopConfig {
  int drifts = 20;                             ///< renames measured one by one
  std::chrono::milliseconds pause{1000};       ///< between them, after the loop settled
  std::chrono::seconds idle{60};               ///< the idle CPU reading; 0 skips it
  int iterations = 1000;                       ///< repairs in a row for the RSS reading; 0 skips it
  std::string iterations_size = "S";           ///< where they run (fast passes)
};

/// Measures `mxctl run` on `size` (see LoopResult). Throws
/// std::runtime_error when a step fails outright (an apply errors, the loop
/// does not become ready, a drift is not repaired within 60 s).
LoopResult run_loop(const InstanceSize& size, const LoopConfig& loop, const BenchConfig& config);

}  // namespace bench
