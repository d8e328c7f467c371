#include "bench/plan_only.h"

#include <time.h>

#include <algorithm>

#include "adapters/homeserver/http_homeserver.h"
#include "adapters/state_store.h"
#include "adapters/manifests/yaml_manifests.h"
#include "controller/clock.h"
#include "controller/planner.h"
#include "controller/reconciler.h"
#include "model/compile.h"
#include "model/diff.h"

namespace bench {

namespace {

// The thread's own clock: the in-process simulator's threads must not count.
double thread_cpu_ms() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1000.0 + static_cast<double>(now.tv_nsec) / 1e6;
}

// Average CPU of `work` over enough repetitions to reach about two seconds
// (about a second each for compile and plan, as when they were timed apart);
// `work(total)` runs once and adds its own CPU time(s) to `total`.
template <typename Times, typename Work>
Times average_cpu_ms(Work work) {
  Times warm_up{};
  double start = thread_cpu_ms();
  work(warm_up);
  double once = thread_cpu_ms() - start;
  int repetitions = std::clamp(static_cast<int>(2000 / std::max(once, 1.0)), 1, 20);
  Times total{};
  for (int i = 0; i < repetitions; ++i) {
    work(total);
  }
  return total / repetitions;
}

// CPU milliseconds of compile and of plan_pass in one repetition.
struct CompileAndPlan {
  double compile_ms = 0;
  double plan_ms = 0;
  CompileAndPlan operator/(int n) const { return {compile_ms / n, plan_ms / n}; }
};

}  // namespace

PlanOnlyResult measure_plan_only(const PlanOnlyTarget& target) {
  PlanOnlyResult result;
  adapters::LoadedManifests loaded = adapters::load_manifests({target.manifests_dir});
  if (!loaded.diagnostics.empty()) {
    result.error = "the manifests have " + std::to_string(loaded.diagnostics.size()) + " problems";
    return result;
  }
  model::Settings settings;
  settings.homeserver_url = target.homeserver_url;
  settings.server_name = target.server_name;
  settings.bot_user_id = target.bot_user_id;
  model::MatrixState desired = model::compile(loaded.topology, settings);

  auto store = adapters::open_sqlite_store(target.state_store);
  if (!store) {
    result.error = store.error().message;
    return result;
  }
  adapters::HttpHomeserver homeserver(settings, target.access_token);
  if (auto caps = homeserver.probe(); !caps) {
    result.error = caps.error().message;
    return result;
  }
  // The options a pass diffs with.
  const model::DiffOptions options = controller::reconcile_options(settings, controller::Mode::plan).diff;
  // The observed state exactly as a pass diffs it (store hints merged in).
  model::LifecycleOptions lifecycle;
  lifecycle.now = controller::SystemClock().now_ms();
  lifecycle.grace_period_days = settings.grace_period_days;
  auto planned = controller::make_plan(desired, homeserver, **store, options, lifecycle);
  if (!planned) {
    result.error = planned.error().message;
    return result;
  }
  result.plan_empty = planned->plan.empty();
  const model::ObservedState& observed = planned->observation.state;
  // Compile, then the whole decision of a pass on what it compiled: lifecycle
  // and diff (plan_pass). A pass moves its compiled state into plan_pass
  // (make_plan), so every repetition compiles its own. Replacing the previous
  // repetition's result frees it inside the plan's time, once per repetition.
  model::PassPlan pass;
  CompileAndPlan cpu = average_cpu_ms<CompileAndPlan>([&](CompileAndPlan& total) {
    const double start = thread_cpu_ms();
    model::MatrixState compiled = model::compile(loaded.topology, settings);
    const double compiled_at = thread_cpu_ms();
    pass = model::plan_pass(std::move(compiled), observed, model::LifecycleRecords{}, lifecycle, options);
    total.compile_ms += compiled_at - start;
    total.plan_ms += thread_cpu_ms() - compiled_at;
  });
  result.compile_cpu_ms = cpu.compile_ms;
  result.diff_cpu_ms = cpu.plan_ms;
  return result;
}

}  // namespace bench
