#pragma once
// What the benchmark measured, as plain data, and how it is printed: one
// markdown table (the four measurements per size), the throughput
// comparison, the `mxctl run` rows, the targets checked, and the same as JSON.

#include <string>
#include <vector>

namespace bench {

/// One mxctl run, measured from outside (wait4) plus its --stats line.
struct PassResult {
  bool ran = false;
  int exit_code = -1;
  double wall_ms = 0;
  double cpu_ms = 0;       ///< mxctl's user + system CPU
  long max_rss_kb = 0;     ///< mxctl's peak resident set
  long requests = 0;       ///< as mxctl counted them (--stats)
  long reads = 0;
  long writes = 0;
  long retried = 0;
  long server_requests = -1;  ///< as mxsim's journal counted them; -1: the server does not count
  double server_cpu_ms = -1;  ///< the server process's CPU during the run; -1: not known
  int window_narrowest = 0;   ///< operations in flight at once, fewest (--stats); 0: nothing executed
  int window_widest = 0;      ///< and most
  bool judged_unchanged = false;  ///< the converged verdict answered it (--stats says so)

  /// Requests per second of wall time.
  double requests_per_second() const { return wall_ms > 0 ? static_cast<double>(requests) * 1000.0 / wall_ms : 0; }
  /// Share of wall time mxctl spent on CPU, in percent.
  double cpu_percent() const { return wall_ms > 0 ? cpu_ms * 100.0 / wall_ms : 0; }
  /// Share of wall time the server process spent on CPU, in percent; -1: not known.
  double server_cpu_percent() const { return wall_ms > 0 && server_cpu_ms >= 0 ? server_cpu_ms * 100.0 / wall_ms : -1; }
};

/// Everything measured for one instance size.
struct SizeResult {
  std::string size;
  std::string server = "mxsim";  ///< what the passes ran against
  std::size_t users = 0;
  std::size_t rooms = 0;
  std::size_t memberships = 0;
  PassResult cold_apply;
  PassResult catch_up;  ///< the first pass after the apply (reads what the apply wrote)
  PassResult noop_without_token;
  PassResult noop_with_token;
  /// The no-op after it, over the same inputs: answered by the converged verdict.
  PassResult noop_converged;
  PassResult change_trust;
  PassResult change_member;
  PassResult change_rename;
  PassResult after_changes;  ///< a no-op after the three changes (must not write)
  double compile_cpu_ms = 0;  ///< Topology → desired MatrixState, once
  double diff_cpu_ms = 0;     ///< desired × observed → Plan, once
  bool plan_only_empty = false;  ///< the in-memory diff of the converged instance was empty

  /// (compile + diff) CPU per 100,000 memberships.
  double plan_cpu_per_100k() const;
};

/// Cold apply, 1 vs N in flight: against mxsim with a fixed per-request
/// delay, or against a real server.
struct ThroughputResult {
  bool ran = false;
  std::string size;
  std::string server = "mxsim";  ///< what the applies ran against
  int delay_ms = 0;              ///< mxsim's added delay per request; 0 for a real server
  int parallel = 0;
  PassResult serial;
  PassResult concurrent;

  /// Requests/s with `parallel` in flight over requests/s with 1.
  double speedup() const;
};

/// `mxctl run` measured from outside: drift made through the client API
/// and how soon and at what cost the loop repaired it, the loop idle, and
/// its resident set over many repairs.
struct LoopResult {
  bool ran = false;
  std::string size;              ///< where drift was repaired and idle CPU read
  std::string server;            ///< what it ran against: "mxsim", "Synapse 1.67.0"
  std::size_t rooms = 0;         ///< rooms of that instance
  int pause_ms = 0;              ///< between drifts
  std::vector<double> repair_ms;  ///< per drift: from the PUT's answer to the name back
  std::vector<double> requests;   ///< per drift: increase of mxctl_homeserver_requests_total
  std::vector<double> passes;     ///< per drift: increase of mxctl_passes_total
  double idle_seconds = 0;        ///< 0: idle CPU not measured
  double idle_cpu_ms = 0;         ///< mxctl's user + system CPU over idle_seconds
  double idle_passes = 0;         ///< passes run while idle
  std::string rss_size;           ///< where the iterations ran
  int rss_iterations = 0;         ///< 0: not measured
  long rss_kb_early = 0;          ///< VmRSS after iteration 10
  long rss_kb_late = 0;           ///< VmRSS after the last iteration
  double rss_iterations_seconds = 0;  ///< wall time of all iterations
  int exit_code = -1;             ///< the drift run's exit after SIGTERM; -1: still running 60 s later
  int rss_exit_code = -1;         ///< the same for the iterations' run

  /// idle_cpu_ms as a share of one core over idle_seconds, in percent.
  double idle_cpu_percent() const;
  /// rss_kb_late / rss_kb_early; 0 when not measured.
  double rss_ratio() const;
};

/// The `q`-quantile (0 < q ≤ 1) of `values` by nearest rank; 0 when empty.
double quantile(std::vector<double> values, double q);

/// The machine and build the numbers come from.
struct Machine {
  std::string date;
  std::string cpu_model;
  int cores = 0;
  long memory_mb = 0;
  std::string build_type;
  std::string commit;
};

/// One target of issue #7, checked.
struct TargetCheck {
  std::string target;
  std::string measured;
  bool met = false;
};

/// Targets of issue #7 checked against the L result (or the largest size
/// measured) and the throughput comparison; those of `mxctl run` against
/// `loop` when it ran.
std::vector<TargetCheck> check_targets(const std::vector<SizeResult>& sizes, const ThroughputResult& throughput,
                                       const LoopResult& loop = {});

/// The results as markdown: machine, the main table (when sizes ran),
/// throughput, `mxctl run`, targets.
std::string to_markdown(const Machine& machine, const std::vector<SizeResult>& sizes,
                        const ThroughputResult& throughput, double total_seconds, const LoopResult& loop = {});

/// The same as a JSON document (pretty-printed); "loop" only when it ran.
std::string to_json(const Machine& machine, const std::vector<SizeResult>& sizes, const ThroughputResult& throughput,
                    double total_seconds, const LoopResult& loop = {});

}  // namespace bench
