#pragma once
// "Plan only": the CPU cost of compile (Topology → desired state) and diff
// (desired × observed → Plan) with everything already in memory, measured
// in this process on the benchmark thread's own CPU clock.

#include <string>

namespace bench {

/// What one plan-only measurement found.
struct PlanOnlyResult {
  double compile_cpu_ms = 0;  ///< per compile, averaged over repetitions
  double diff_cpu_ms = 0;     ///< per diff, averaged over repetitions
  bool plan_empty = false;    ///< the converged instance diffed to an empty plan
  std::string error;          ///< empty, or why it could not be measured
};

/// Where the converged homeserver is and how to reach it.
struct PlanOnlyTarget {
  std::string manifests_dir;
  std::string homeserver_url;
  std::string server_name;
  std::string bot_user_id;
  std::string access_token;
  std::string state_store;  ///< a store of the converged instance; it is updated (token)
};

/// Loads the manifests, observes the server once (with the store's hints,
/// as a pass does), then times compile and diff over enough repetitions
/// for a stable figure (about two seconds of CPU for both together, at
/// most 20); each repetition compiles afresh and moves the result into the
/// plan, as a pass does.
PlanOnlyResult measure_plan_only(const PlanOnlyTarget& target);

}  // namespace bench
