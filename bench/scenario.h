#pragma once
// One benchmark scenario: a fresh homeserver (mxsim on loopback, a fresh
// Synapse, or one named on the command line), the real mxctl binary run
// against it as a child process, and the instance taken from empty to
// converged, through no-op passes and three small changes.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "bench/bench_server.h"
#include "bench/instance.h"
#include "bench/results.h"

namespace bench {

/// What every scenario shares.
struct BenchConfig {
  std::string mxctl;        ///< path of the mxctl binary
  std::string mxsim;        ///< path of the mxsim binary
  std::string self;         ///< path of mxctl-bench itself (plan only runs as a child)
  std::string work_dir;     ///< scratch space (manifests, stores, output)
  std::uint64_t seed = 7;
  int parallel = 32;        ///< mxctl --parallel for applies (mxctl's default)
  bool verbose = false;     ///< print each run's stats line as it finishes
  /// The Synapse homeserver scripts (start, make-admin, stop) to run
  /// against, a fresh server per instance; empty: mxsim.
  std::string synapse_scripts;
  /// A running homeserver to run against instead of starting one. Its
  /// instances' keys start with `key_prefix` and the size, so that runs
  /// on the same server do not meet.
  std::optional<GivenServer> given;
  std::string key_prefix;
};

/// A fresh server for one instance in `dir` (mxsim with `delay_ms` per
/// request, or a fresh Synapse), or the one config.given names.
std::unique_ptr<BenchServer> start_server(const BenchConfig& config, const std::string& dir, int delay_ms);

/// Measures `size` end to end (see SizeResult). Throws std::runtime_error
/// when a step fails outright (mxctl errors, the instance does not converge).
SizeResult run_size(const InstanceSize& size, const BenchConfig& config);

/// Cold apply of `size` with 1 operation in flight and with config.parallel,
/// each on a fresh server: against mxsim with a fixed `delay_ms` per
/// request, against a real server (config.synapse_scripts) with its own.
ThroughputResult run_throughput(const InstanceSize& size, int delay_ms, const BenchConfig& config);

}  // namespace bench
