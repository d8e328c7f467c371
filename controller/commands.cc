#include "controller/commands.h"

#include <sys/resource.h>

#include <chrono>
#include <iostream>
#include <memory>

#include "adapters/appdb/app_write_back.h"
#include "adapters/appdb/desired_source.h"
#include "adapters/homeserver/http_homeserver.h"
#include "controller/state_json.h"
#include "adapters/homeserver/rate_limits.h"
#include "adapters/redact.h"
#include "adapters/manifests/settings_file.h"
#include "adapters/state_store.h"
#include "adapters/manifests/yaml_manifests.h"
#include "controller/clock.h"
#include "controller/executor.h"
#include "controller/planner.h"
#include "controller/remaining_time.h"
#include "controller/render_plan.h"
#include "controller/render_state.h"
#include "controller/saved_plan.h"
#include "model/compile.h"
#include "model/printable.h"

namespace controller {

namespace {

void print_diagnostics(const model::Diagnostics& diagnostics, std::ostream& err) {
  for (const model::Diagnostic& diagnostic : diagnostics) {
    err << diagnostic.to_string() << "\n";
  }
  err << diagnostics.size() << (diagnostics.size() == 1 ? " problem" : " problems") << " found\n";
}

// Errors quote the homeserver's own messages: escaped, like everything else
// that came from outside (model/printable.h), and redacted here too, where
// every error is printed (a URL's password, an access_token parameter).
void print_error(const model::Error& error, std::ostream& err) {
  err << "Error: " << model::printable(adapters::redact(error.message, {})) << "\n";
}

std::string plural(std::size_t count, const char* one, const char* many) {
  return std::to_string(count) + " " + (count == 1 ? one : many);
}

std::string summarize_topology(const model::Topology& topology) {
  return plural(topology.users.size(), "user", "users") + ", " +
         plural(topology.communities.size(), "community", "communities") + ", " +
         plural(topology.councils.size(), "council", "councils") + ", " +
         plural(topology.coordination_rooms.size(), "coordination room", "coordination rooms") + ", " +
         plural(topology.power_policies.size(), "power policy", "power policies");
}

// User and system CPU time of this process so far, in ms.
std::pair<long, long> process_cpu_ms() {
  rusage self{};
  getrusage(RUSAGE_SELF, &self);
  auto ms = [](const timeval& tv) { return static_cast<long>(tv.tv_sec * 1000 + tv.tv_usec / 1000); };
  return {ms(self.ru_utime), ms(self.ru_stime)};
}

// Everything one pass needs, prepared in the order that fails cheapest
// first: input problems before any connection, the lock before the server.
struct Pass {
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  /// The process's CPU time (user, system; ms) when the pass started, so
  /// --stats reports the pass's own CPU against the pass's own wall time.
  std::pair<long, long> cpu_at_start = process_cpu_ms();
  adapters::LoadedSettings settings;
  /// What the desired state was compiled from; the topology is kept only
  /// for write-back (at instance scale it is tens of MB).
  adapters::LoadedDesired source;
  /// The compiled desired state until plan_now hands it to the planner.
  model::MatrixState desired;
  /// digest(desired), computed before planning when a saved plan is
  /// written or checked; empty otherwise.
  std::string desired_digest;
  /// Writes the executor repeated (429s, transient faults); the client
  /// counts only the reads it repeats itself.
  int repeated_writes = 0;
  /// What the plan is carried out against: `desired` as the lifecycle
  /// widened it (archived forms of rooms gone, suspended accounts).
  model::MatrixState execution_desired;
  model::LifecycleOptions lifecycle;
  std::unique_ptr<adapters::StateStore> store;
  /// Empty for a plan, which takes no lock.
  std::unique_ptr<adapters::StoreLock> lock;
  std::unique_ptr<adapters::HttpHomeserver> homeserver;

  model::DiffOptions diff_options() const {
    model::DiffOptions options;
    options.bot_user_id = settings.settings.bot_user_id;
    options.reinvite_to_community_rooms = settings.settings.reinvite_to_community_rooms;
    options.reinvite_to_council_rooms = settings.settings.reinvite_to_council_rooms;
    // Suspension needs the Synapse admin API; an appservice cannot do it.
    options.manage_account_status = settings.settings.provisioning == model::ProvisioningMode::synapse_admin;
    return options;
  }
};

// `reads_only`: a plan or dry run, whose client refuses to send any write.
// A plan is a reader of the store too: it takes no lock, and a store it
// cannot write it reads as it is.
std::unique_ptr<Pass> prepare(const PassOptions& options, const std::string& command, Console& console,
                              bool reads_only = false) {
  const bool reader = command == "plan";
  auto pass = std::make_unique<Pass>();
  adapters::Environment env = adapters::process_environment();
  pass->settings = adapters::load_settings(options.config_path, env);
  model::Diagnostics problems = pass->settings.diagnostics;
  model::Diagnostics missing = adapters::require_connection_settings(pass->settings);
  problems.insert(problems.end(), missing.begin(), missing.end());
  if (options.write_back && options.from_db.empty()) {
    problems.push_back({{"settings"}, "--write-back needs --from-db URI"});
  }
  pass->source =
      adapters::load_desired(options.paths, options.from_db, pass->settings.app_database, pass->settings.settings);
  problems.insert(problems.end(), pass->source.diagnostics.begin(), pass->source.diagnostics.end());
  if (!problems.empty()) {
    print_diagnostics(problems, console.err);
    return nullptr;
  }
  auto token = adapters::load_access_token(pass->settings, env);
  if (!token) {
    print_error(token.error(), console.err);
    return nullptr;
  }
  pass->desired = model::compile(pass->source.topology, pass->settings.settings);
  if (!options.write_back) {
    pass->source.topology = {};
  }
  auto store = adapters::open_sqlite_store(
      options.state_path, reader ? adapters::StoreAccess::read_only_if_needed : adapters::StoreAccess::read_write);
  if (!store) {
    print_error(store.error(), console.err);
    return nullptr;
  }
  pass->store = std::move(*store);
  if (!reader) {
    auto lock = pass->store->lock(command);
    if (!lock) {
      print_error(lock.error(), console.err);
      return nullptr;
    }
    pass->lock = std::move(*lock);
    if (std::string took_over = pass->lock->took_over(); !took_over.empty()) {
      console.err << "Warning: " << model::printable(took_over) << " (recorded in the audit log)\n";
    }
  }
  // --now stands in for the clock in tests and drills.
  pass->lifecycle.now = options.now ? FixedClock(*options.now).now_ms() : SystemClock().now_ms();
  pass->lifecycle.grace_period_days = pass->settings.settings.grace_period_days;
  // The pass deadline counts from the start of the pass, loading included.
  adapters::ClientOptions client = adapters::client_options(pass->settings.settings, pass->started);
  client.read_only = reads_only;
  pass->homeserver = std::make_unique<adapters::HttpHomeserver>(pass->settings.settings, *token, client);
  if (auto caps = pass->homeserver->probe(); !caps) {
    print_error(caps.error(), console.err);
    return nullptr;
  }
  return pass;
}

// Observes and diffs; prints the error and returns nothing when that fails.
// The desired state is moved into the planner (a copy at instance scale
// costs as much as the diff); `with_digest` keeps its digest first, for a
// saved plan.
std::optional<PlannedPass> plan_now(Pass& pass, Console& console, bool with_digest = false) {
  if (with_digest) {
    pass.desired_digest = digest(pass.desired);
  }
  auto planned = make_plan(std::move(pass.desired), *pass.homeserver, *pass.store, pass.diff_options(),
                           pass.lifecycle, pass.lock ? StoreWrites::all : StoreWrites::cache_only);
  if (!planned) {
    print_error(planned.error(), console.err);
    return std::nullopt;
  }
  // A plan that could not keep its observation cache says so.
  if (!planned->cache_note.empty()) {
    console.err << "Note: " << model::printable(planned->cache_note) << ".\n";
  }
  // Moved, not copied: at instance scale the desired state is large, and
  // PlannedPass::desired is not used after this.
  pass.execution_desired = std::move(planned->desired);
  // Synapse's default limits make a large first apply take minutes to hours;
  // say so before anyone waits for it.
  if (std::string note = adapters::rate_limit_note(pass.homeserver->capabilities().rate_limits, planned->plan);
      !note.empty()) {
    console.err << note << "\n";
  }
  return std::move(*planned);
}

// The mass-change guard: false (with the explanation printed) when the pass
// must stop before doing anything.
bool mass_change_allowed(const Pass& pass, const PlannedPass& planned, const PassOptions& options,
                         Console& console) {
  auto refusal = model::mass_change_refusal(planned.plan, planned.mass_change, pass.settings.settings);
  if (!refusal) {
    return true;
  }
  if (options.allow_mass_change) {
    console.err << "Warning: " << *refusal << " (allowed by --allow-mass-change)\n";
    return true;
  }
  console.err << "Error: mass-change guard: " << *refusal << "; nothing was changed\n";
  return false;
}

void print_stats(const Pass& pass, std::ostream& err) {
  adapters::ClientStats stats = pass.homeserver->stats();
  auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - pass.started);
  err << "Pass took " << wall.count() << " ms. Requests: " << stats.reads + stats.writes << " (" << stats.reads << " reads, " << stats.writes
      << " writes, " << stats.retries + static_cast<std::uint64_t>(pass.repeated_writes) << " retried), " << stats.bytes_sent << " bytes sent, " << stats.bytes_received
      << " bytes received, " << stats.waiting.count() / 1000
      << " ms in requests (summed over concurrent requests)\n";
  // Own CPU against wall tells an operator whether a slow pass is mxctl's
  // work or waiting on the server (the rest of the wall time).
  const auto [user_now, system_now] = process_cpu_ms();
  long user_ms = user_now - pass.cpu_at_start.first;
  long system_ms = system_now - pass.cpu_at_start.second;
  long share = wall.count() > 0 ? (user_ms + system_ms) * 100 / wall.count() : 0;
  err << "mxctl CPU: " << user_ms + system_ms << " ms (" << user_ms << " user, " << system_ms << " system), "
      << share << "% of " << wall.count() << " ms wall; the rest is waiting on the server\n";
}

std::string render(const model::Plan& plan, const std::string& format, bool explain) {
  if (format == "json") {
    return render_plan_json(plan);
  }
  if (format == "markdown") {
    return render_plan_markdown(plan, {explain});
  }
  return render_plan_text(plan, {explain});
}

bool confirm(Console& console) {
  console.out << "\nDo you want to perform these actions?\n  Only 'yes' will be accepted to approve.\n\n"
              << "  Enter a value: " << std::flush;
  std::string answer;
  std::getline(console.in, answer);
  return answer == "yes";
}

// How often the line-by-line progress repeats the estimate of the time left.
constexpr std::chrono::seconds k_estimate_every{5};

// Runs the executor and prints progress and the closing line; true if every
// operation succeeded.
bool execute(Pass& pass, const model::Plan& plan, const PassOptions& options, const std::string& command,
             bool dry_run, const std::map<std::string, std::string>& room_ids, Console& console) {
  auto run_id = pass.store->begin_run(command);
  if (!run_id) {
    print_error(run_id.error(), console.err);
    return false;
  }
  ExecutorOptions executor;
  executor.max_in_flight = options.max_in_flight;
  executor.dry_run = dry_run;
  executor.deadline = pass.started + std::chrono::minutes(pass.settings.settings.pass_timeout_minutes);
  std::size_t settled = 0;
  const std::size_t total = plan.operations.size();
  // The time left from the measured rate: the rate-limit note before the
  // apply can only assume the server's limits.
  RemainingTime remaining(total, std::chrono::steady_clock::now());
  std::optional<std::chrono::steady_clock::time_point> last_estimate_line;
  auto progress = [&](const OperationReport& op) {
    ++settled;
    const auto now = std::chrono::steady_clock::now();
    remaining.settled(now);
    const std::optional<std::chrono::milliseconds> left = settled < total ? remaining.estimate(now) : std::nullopt;
    const std::string counter = std::to_string(settled) + "/" + std::to_string(total);
    bool trouble = op.status == OperationReport::Status::failed || op.status == OperationReport::Status::skipped;
    // Each line goes out in one write: stderr is unbuffered, and a cold
    // apply at instance scale prints hundreds of thousands of them.
    std::string line;
    if (console.progress_line && !trouble) {
      // One line rewritten in place; failures still get a line of their own.
      line = "\r\033[K[" + counter + (left ? ", " + remaining_text(*left) : "") + "] " +
             model::printable(op.description);
      console.err << line << std::flush;
      return;
    }
    if (console.progress_line) {
      line = "\r\033[K";
    } else if (left && (!last_estimate_line || now - *last_estimate_line >= k_estimate_every)) {
      // Line by line, the estimate gets a line of its own now and then.
      last_estimate_line = now;
      line = "Progress: " + counter + " operations settled, " + remaining_text(*left) + "\n";
    }
    line += to_string(op.status) + std::string(": ") + model::printable(op.description);
    if (op.attempts > 1) {
      line += " (" + std::to_string(op.attempts) + " attempts)";
    }
    if (!op.error.empty()) {
      line += ": " + model::printable(op.error);
    }
    console.err << line + "\n";
  };
  executor.now = pass.lifecycle.now;
  ApplyReport report = execute_plan(plan, pass.execution_desired, *pass.homeserver, *pass.store, *run_id, executor, room_ids,
                                    progress);
  if (console.progress_line && settled > 0) {
    console.err << "\r\033[K" << std::flush;
  }
  for (const std::string& warning : report.warnings) {
    console.err << "Warning: " << model::printable(warning) << "\n";
  }
  pass.repeated_writes += report.repeated_attempts;
  pass.store->finish_run(*run_id, report.ok() ? "succeeded" : "failed", report.added + report.changed,
                         report.failed + report.skipped);
  if (pass.lock && pass.lock->lost()) {
    console.err << "Warning: another process took over the pass lock while this pass ran (its lease was not "
                   "renewed in time); check the audit log for what both did\n";
  }
  console.out << "\n" << apply_summary(report, dry_run) << "\n";
  return report.ok();
}

// After a successful apply: the app database learns the Matrix ids (FT-17).
// False (with the error printed) when that fails.
bool write_back(Pass& pass, const PassOptions& options, Console& console) {
  auto room_ids = pass.store->room_ids();
  auto accounts = pass.store->managed_accounts();
  if (!room_ids || !accounts) {
    print_error(room_ids ? accounts.error() : room_ids.error(), console.err);
    return false;
  }
  auto report = adapters::write_back(options.from_db, pass.source.topology, pass.source.ids,
                                     adapters::MatrixIds{*room_ids, *accounts});
  if (!report) {
    print_error(report.error(), console.err);
    return false;
  }
  for (const std::string& line : report->written) {
    console.err << "Wrote back " << line << "\n";
  }
  console.out << "Write-back: " << plural(report->written.size(), "value", "values") << " written to "
              << pass.source.database << ".\n";
  return true;
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
  auto pass = prepare(options.pass, "plan", console, true);
  if (!pass) {
    return k_exit_error;
  }
  auto planned = plan_now(*pass, console, !options.out_path.empty());
  if (!planned) {
    return k_exit_error;
  }
  const model::Plan& plan = planned->plan;
  if (options.format == "json" || options.format == "markdown") {
    console.out << render(plan, options.format, options.pass.explain);
  } else {
    write_plan_text(console.out, plan, {options.pass.explain});
  }
  if (!options.out_path.empty()) {
    SavedPlan saved{options.pass.paths, pass->desired_digest, render_plan_json(plan), pass->source.database,
                    options.pass.now};
    if (auto written = write_saved_plan(options.out_path, saved); !written) {
      print_error(written.error(), console.err);
      return k_exit_error;
    }
    console.err << "Saved the plan to " << options.out_path << "; apply it with: mxctl apply --plan "
                << options.out_path << "\n";
  }
  if (options.pass.stats) {
    print_stats(*pass, console.err);
  }
  if (plan.error_count() > 0) {
    console.err << "Error: " << plural(plan.error_count(), "change", "changes")
                << " cannot be made as desired (see the plan)\n";
    return k_exit_error;
  }
  // The reviewer must see now that apply would refuse this plan.
  if (!mass_change_allowed(*pass, *planned, options.pass, console)) {
    return k_exit_error;
  }
  if (options.detailed_exitcode && !plan.empty()) {
    return k_exit_changes;
  }
  return k_exit_ok;
}

int run_apply(const ApplyOptions& options, Console& console) {
  PassOptions pass_options = options.pass;
  std::optional<SavedPlan> saved;
  if (!options.plan_path.empty()) {
    if (!pass_options.paths.empty()) {
      console.err << "Error: give either --plan FILE or manifest paths, not both\n";
      return k_exit_error;
    }
    auto read = read_saved_plan(options.plan_path);
    if (!read) {
      print_error(read.error(), console.err);
      return k_exit_error;
    }
    saved = *read;
    pass_options.paths = saved->paths;
    // The reviewed plan's instant, unless the apply names its own.
    if (!pass_options.now) {
      pass_options.now = saved->now;
    }
    if (auto from_db = database_of(*saved, pass_options.from_db); !from_db) {
      print_error(from_db.error(), console.err);
      return k_exit_error;
    } else {
      pass_options.from_db = *from_db;
    }
  } else if (pass_options.paths.empty() && pass_options.from_db.empty()) {
    console.err << "Error: give manifest paths, --from-db URI or --plan FILE\n";
    return k_exit_error;
  }
  auto pass = prepare(pass_options, "apply", console, options.dry_run);
  if (!pass) {
    return k_exit_error;
  }
  auto planned = plan_now(*pass, console, saved.has_value());
  if (!planned) {
    return k_exit_error;
  }
  const model::Plan& plan = planned->plan;
  if (saved) {
    if (auto fresh = check_not_stale(*saved, pass->desired_digest, plan); !fresh) {
      print_error(fresh.error(), console.err);
      return k_exit_error;
    }
  }
  write_plan_text(console.out, plan, {options.pass.explain});
  if (plan.error_count() > 0) {
    console.err << "Error: " << plural(plan.error_count(), "change", "changes")
                << " cannot be made as desired; nothing was applied\n";
    return k_exit_error;
  }
  if (!mass_change_allowed(*pass, *planned, pass_options, console)) {
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
  bool ok = execute(*pass, plan, pass_options, "apply", options.dry_run, planned->observation.room_ids, console);
  if (ok && pass_options.write_back && !options.dry_run) {
    ok = write_back(*pass, pass_options, console);
  }
  if (options.pass.stats) {
    print_stats(*pass, console.err);
  }
  return ok ? k_exit_ok : k_exit_error;
}

int run_reconcile(const PassOptions& options, Console& console) {
  auto pass = prepare(options, "reconcile", console);
  if (!pass) {
    return k_exit_error;
  }
  auto planned = plan_now(*pass, console);
  if (!planned) {
    return k_exit_error;
  }
  const model::Plan& plan = planned->plan;
  write_plan_text(console.out, plan, {options.explain});
  if (!mass_change_allowed(*pass, *planned, options, console)) {
    return k_exit_error;
  }
  // Cron cannot ask anyone: carry out what can be done, report the rest.
  bool ok = execute(*pass, plan, options, "reconcile", false, planned->observation.room_ids, console);
  // Only a pass that fully succeeded may tell the app its rooms exist.
  if (ok && plan.error_count() == 0 && options.write_back) {
    ok = write_back(*pass, options, console);
  }
  if (plan.error_count() > 0) {
    console.err << "Error: " << plural(plan.error_count(), "change", "changes") << " cannot be made as desired\n";
    ok = false;
  }
  if (options.stats) {
    print_stats(*pass, console.err);
  }
  return ok ? k_exit_ok : k_exit_error;
}

}  // namespace controller
