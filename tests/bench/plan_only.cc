#include "tests/bench/plan_only.h"

#include <time.h>

#include <algorithm>

#include "adapters/http_homeserver.h"
#include "adapters/state_store.h"
#include "adapters/yaml_manifests.h"
#include "controller/clock.h"
#include "controller/planner.h"
#include "model/compile.h"
#include "model/diff.h"

namespace bench {

namespace {

// The thread's own clock: the in-process simulator's threads must not count.
double thread_cpu_ms() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return now.tv_sec * 1000.0 + now.tv_nsec / 1e6;
}

// Average CPU of `work` over enough repetitions to reach about a second.
template <typename Work>
double average_cpu_ms(Work work) {
  double start = thread_cpu_ms();
  work();
  double once = thread_cpu_ms() - start;
  int repetitions = std::clamp(static_cast<int>(1000 / std::max(once, 1.0)), 1, 20);
  start = thread_cpu_ms();
  for (int i = 0; i < repetitions; ++i) {
    work();
  }
  return (thread_cpu_ms() - start) / repetitions;
}

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
  result.compile_cpu_ms = average_cpu_ms([&] { desired = model::compile(loaded.topology, settings); });

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
  model::DiffOptions options;
  options.bot_user_id = settings.bot_user_id;
  options.reinvite_to_community_rooms = settings.reinvite_to_community_rooms;
  options.reinvite_to_council_rooms = settings.reinvite_to_council_rooms;
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
  model::Plan plan;
  // The whole decision of a pass: lifecycle and diff (what plan_pass runs).
  result.diff_cpu_ms = average_cpu_ms(
      [&] { plan = model::plan_pass(desired, observed, model::LifecycleRecords{}, lifecycle, options).plan; });
  return result;
}

}  // namespace bench
