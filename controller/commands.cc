#include "controller/commands.h"

#include <ostream>
#include <optional>
#include <string>

#include "adapters/appdb/desired_source.h"
#include "adapters/homeserver/rate_limits.h"
#include "adapters/manifests/settings_file.h"
#include "controller/kept_until_exit.h"
#include "controller/pass_output.h"
#include "controller/pass_wiring.h"
#include "controller/progress_printer.h"
#include "controller/reconciler.h"
#include "controller/render_plan.h"
#include "controller/render_state.h"
#include "controller/saved_plan.h"
#include "controller/state_json.h"
#include "model/compile.h"

namespace controller {

namespace {

std::string summarize_topology(const model::Topology& topology) {
  return plural(topology.users.size(), "user", "users") + ", " +
         plural(topology.communities.size(), "community", "communities") + ", " +
         plural(topology.councils.size(), "council", "councils") + ", " +
         plural(topology.coordination_rooms.size(), "coordination room", "coordination rooms") + ", " +
         plural(topology.power_policies.size(), "power policy", "power policies");
}

// Plans through `reconciler` and prints the notes, or the error and nothing.
// `digest_out`, when given, gets the desired state's digest first (for a
// saved plan), since the reconciler takes the desired state over.
std::optional<GuardedPlan> plan_now(PassWiring& pass, Reconciler& reconciler, Console& console,
                                    std::string* digest_out = nullptr) {
  model::Result<GuardedPlan> planned = tl::unexpected(model::Error{});
  if (digest_out != nullptr) {
    // A saved plan names the desired state it was made for.
    auto desired = take_desired(pass);
    if (!desired) {
      print_error(desired.error(), console.err);
      return std::nullopt;
    }
    *digest_out = digest(*desired);
    planned = reconciler.plan(std::move(*desired));
  } else {
    planned = reconciler.plan([&pass] { return take_desired(pass); }, pass.verdict ? &*pass.verdict : nullptr);
  }
  if (!planned) {
    print_error(planned.error(), console.err);
    return std::nullopt;
  }
  const model::Plan& plan = planned->planned.plan;
  // A plan without writes has nothing to wait on, and asks nothing more.
  const std::string rate_note =
      adapters::writes_anything(adapters::write_load(plan))
          ? adapters::rate_limit_note(pass.homeserver->rate_limits(), plan)
          : "";
  print_plan_notes(planned->planned.cache_note, rate_note, console.err);
  return std::move(*planned);
}

// What executing a plan came to, for the exit code and --stats.
struct Executed {
  bool ok = false;
  /// The executor's repeated attempts, which the client does not count.
  int repeated_writes = 0;
  InFlight in_flight;
};

// Executes the plan with progress on the console, and prints the outcome.
Executed execute(Reconciler& reconciler, const GuardedPlan& planned, bool dry_run, Console& console) {
  ProgressPrinter progress(console, planned.planned.plan.operations.size());
  ApplyOutcome outcome = reconciler.apply(planned, progress.callback());
  bool ok = print_apply_outcome(outcome, dry_run, progress, console);
  if (!outcome.report) {
    return {ok, 0, {}};
  }
  const ApplyReport& report = *outcome.report;
  // The window means something only once requests went out.
  const bool requested = report.succeeded + report.already_done + report.failed > 0;
  return {ok, report.repeated_attempts,
          requested ? InFlight{report.narrowest_window, report.widest_window} : InFlight{}};
}

}  // namespace

int run_validate(const std::vector<std::string>& paths, Console& console, const std::string& from_db,
                 const std::string& config_path) {
  // The server name, where known, decides whether user IDs and aliases fit;
  // the settings' own problems matter only when they were asked for.
  adapters::LoadedSettings settings = adapters::load_settings(config_path, adapters::process_environment());
  adapters::LoadedDesired loaded = adapters::load_desired(paths, from_db, settings.app_database, settings.settings);
  model::Diagnostics problems;
  if (!from_db.empty() || !config_path.empty()) {
    problems = settings.diagnostics;
  }
  problems.insert(problems.end(), loaded.diagnostics.begin(), loaded.diagnostics.end());
  if (!problems.empty()) {
    print_diagnostics(problems, console.err);
    return k_exit_error;
  }
  console.out << (from_db.empty() ? "The manifests are valid: " : "The desired state is valid: ")
              << summarize_topology(loaded.topology) << " (" << loaded.describe_sources() << ").\n";
  return k_exit_ok;
}

int run_desired(const std::string& config_path, const std::vector<std::string>& paths, const std::string& output,
                Console& console, const std::string& from_db) {
  adapters::LoadedSettings settings = adapters::load_settings(config_path, adapters::process_environment());
  model::Diagnostics problems = settings.diagnostics;
  if (settings.settings.server_name.empty()) {
    problems.push_back({{"settings"}, "no server name: set MATRIX_SERVER_NAME or serverName in the config"});
  }
  adapters::LoadedDesired loaded = adapters::load_desired(paths, from_db, settings.app_database, settings.settings);
  problems.insert(problems.end(), loaded.diagnostics.begin(), loaded.diagnostics.end());
  if (!problems.empty()) {
    print_diagnostics(problems, console.err);
    return k_exit_error;
  }
  model::MatrixState desired = model::compile(loaded.topology, settings.settings);
  if (output == "json") {
    console.out << state_json(desired).dump(2) << "\n";
  } else {
    console.out << render_state_text(desired);
  }
  return k_exit_ok;
}

int run_plan(const PlanOptions& options, Console& console) {
  auto pass = wire_pass(options.pass, Mode::plan, true, console);
  if (!pass) {
    return k_exit_error;
  }
  Reconciler reconciler = reconciler_for(*pass, options.pass, Mode::plan);
  std::string desired_digest;
  auto planned_now = plan_now(*pass, reconciler, console, options.out_path.empty() ? nullptr : &desired_digest);
  if (!planned_now) {
    return k_exit_error;
  }
  const KeptUntilExit<GuardedPlan> planned(std::move(*planned_now));
  const model::Plan& plan = planned->planned.plan;
  print_plan(plan, options.format, options.pass.explain, console.out);
  if (!options.out_path.empty()) {
    SavedPlan saved{options.pass.paths, desired_digest, render_plan_json(plan), pass->source.database,
                    options.pass.now};
    if (auto written = write_saved_plan(options.out_path, saved); !written) {
      print_error(written.error(), console.err);
      return k_exit_error;
    }
    console.err << "Saved the plan to " << options.out_path << "; apply it with: mxctl apply --plan "
                << options.out_path << "\n";
  }
  if (options.pass.stats) {
    print_stats(pass->homeserver->stats(), 0, {}, pass->times, console.err);
  }
  if (planned->guard.plan_errors > 0) {
    print_plan_errors(planned->guard.plan_errors, " (see the plan)", console.err);
    return k_exit_error;
  }
  // The reviewer must see now that apply would refuse this plan.
  if (!print_mass_change(planned->guard, console.err)) {
    return k_exit_error;
  }
  return options.detailed_exitcode && !plan.empty() ? k_exit_changes : k_exit_ok;
}

int run_apply(const ApplyOptions& options, Console& console) {
  std::optional<SavedPlan> saved;
  std::optional<PassOptions> given = apply_inputs(options, saved, console);
  if (!given) {
    return k_exit_error;
  }
  const PassOptions& pass_options = *given;
  auto pass = wire_pass(pass_options, Mode::apply, options.dry_run, console);
  if (!pass) {
    return k_exit_error;
  }
  Reconciler reconciler = reconciler_for(*pass, pass_options, Mode::apply, options.dry_run);
  std::string desired_digest;
  auto planned_now = plan_now(*pass, reconciler, console, saved ? &desired_digest : nullptr);
  if (!planned_now) {
    return k_exit_error;
  }
  const KeptUntilExit<GuardedPlan> planned(std::move(*planned_now));
  const model::Plan& plan = planned->planned.plan;
  if (saved) {
    if (auto fresh = check_not_stale(*saved, desired_digest, plan); !fresh) {
      print_error(fresh.error(), console.err);
      return k_exit_error;
    }
  }
  print_plan(plan, "text", options.pass.explain, console.out);
  if (planned->guard.plan_errors > 0) {
    print_plan_errors(planned->guard.plan_errors, "; nothing was applied", console.err);
    return k_exit_error;
  }
  if (!print_mass_change(planned->guard, console.err)) {
    return k_exit_error;
  }
  // A saved plan was reviewed already; an empty plan has nothing to confirm.
  if (!plan.empty() && !saved && !options.yes && !options.dry_run) {
    if (!console.interactive) {
      console.err << "Error: refusing to apply without confirmation: standard input is not a terminal; pass --yes\n";
      return k_exit_error;
    }
    if (!confirm(console)) {
      console.err << "Apply cancelled.\n";
      return k_exit_error;
    }
  }
  Executed executed = execute(reconciler, *planned, options.dry_run, console);
  bool ok = executed.ok;
  if (ok && pass_options.write_back && !options.dry_run) {
    ok = write_back(*pass, pass_options, console);
  }
  if (options.pass.stats) {
    print_stats(pass->homeserver->stats(), executed.repeated_writes, executed.in_flight, pass->times, console.err,
                planned->planned.unchanged);
  }
  return ok ? k_exit_ok : k_exit_error;
}

int run_reconcile(const PassOptions& options, Console& console) {
  auto pass = wire_pass(options, Mode::reconcile, false, console);
  if (!pass) {
    return k_exit_error;
  }
  Reconciler reconciler = reconciler_for(*pass, options, Mode::reconcile);
  auto planned_now = plan_now(*pass, reconciler, console);
  if (!planned_now) {
    return k_exit_error;
  }
  const KeptUntilExit<GuardedPlan> planned(std::move(*planned_now));
  print_plan(planned->planned.plan, "text", options.explain, console.out);
  if (!print_mass_change(planned->guard, console.err)) {
    return k_exit_error;
  }
  // Cron cannot ask anyone: carry out what can be done, report the rest.
  Executed executed = execute(reconciler, *planned, false, console);
  bool ok = executed.ok;
  // Only a pass that fully succeeded may tell the app its rooms exist.
  if (ok && planned->guard.plan_errors == 0 && options.write_back) {
    ok = write_back(*pass, options, console);
  }
  if (planned->guard.plan_errors > 0) {
    print_plan_errors(planned->guard.plan_errors, "", console.err);
    ok = false;
  }
  if (options.stats) {
    print_stats(pass->homeserver->stats(), executed.repeated_writes, executed.in_flight, pass->times, console.err,
                planned->planned.unchanged);
  }
  return ok ? k_exit_ok : k_exit_error;
}

}  // namespace controller
