#include "controller/pass_wiring.h"

#include <chrono>
#include <filesystem>
#include <ostream>
#include <sstream>
#include <utility>

#include "adapters/appdb/app_write_back.h"
#include "controller/commands.h"
#include "controller/desired_cache.h"
#include "controller/kept_probe.h"
#include "model/compile.h"
#include "model/printable.h"
#include "model/state_codec.h"

namespace controller {

std::optional<PassOptions> apply_inputs(const ApplyOptions& options, std::optional<SavedPlan>& saved,
                                        Console& console) {
  PassOptions pass_options = options.pass;
  if (options.plan_path.empty()) {
    if (pass_options.paths.empty() && pass_options.from_db.empty()) {
      console.err << "Error: give manifest paths, --from-db URI or --plan FILE\n";
      return std::nullopt;
    }
    return pass_options;
  }
  if (!pass_options.paths.empty()) {
    console.err << "Error: give either --plan FILE or manifest paths, not both\n";
    return std::nullopt;
  }
  auto read = read_saved_plan(options.plan_path);
  if (!read) {
    print_error(read.error(), console.err);
    return std::nullopt;
  }
  saved = *read;
  pass_options.paths = saved->paths;
  // The reviewed plan's instant, unless the apply names its own.
  if (!pass_options.now) {
    pass_options.now = saved->now;
  }
  auto from_db = database_of(*saved, pass_options.from_db);
  if (!from_db) {
    print_error(from_db.error(), console.err);
    return std::nullopt;
  }
  pass_options.from_db = *from_db;
  return pass_options;
}

namespace {

// A plan is a reader of the store: it takes no lock, and a store it cannot
// write it reads as it is.
bool open_store(PassWiring& pass, const PassOptions& options, bool reader, Console& console) {
  auto store = adapters::open_state_store(
      options.state_path, reader ? adapters::StoreAccess::read_only_if_needed : adapters::StoreAccess::read_write);
  if (!store) {
    print_error(store.error(), console.err);
    return false;
  }
  pass.store = std::move(*store);
  return true;
}

}  // namespace

std::unique_ptr<PassWiring> wire_pass(const PassOptions& options, Mode mode, bool reads_only, Console& console) {
  const bool reader = mode == Mode::plan;
  auto pass = std::make_unique<PassWiring>();
  adapters::Environment env = adapters::process_environment();
  pass->settings = adapters::load_settings(options.config_path, env);
  model::Diagnostics problems = pass->settings.diagnostics;
  model::Diagnostics missing = adapters::require_connection_settings(pass->settings);
  problems.insert(problems.end(), missing.begin(), missing.end());
  if (options.write_back && options.from_db.empty()) {
    problems.push_back({{"settings"}, "--write-back needs --from-db URI"});
  }
  // Manifests alone (no database) can be digested, and their compiled state
  // recalled from the store, when it exists already: bad input must never
  // create a store.
  std::optional<std::string> digest;
  bool recalled = false;
  adapters::ManifestTexts& manifests = pass->manifests;
  const bool digestible =
      problems.empty() && !options.paths.empty() && options.from_db.empty() && !options.write_back;
  auto token = adapters::load_access_token(pass->settings, env);
  if (digestible) {
    manifests = adapters::read_manifest_texts(options.paths);
    digest = token ? desired_digest(manifests, pass->settings.settings, *token) : std::nullopt;
    std::error_code error;
    if (digest && (adapters::is_postgres_store(options.state_path) ||
                   std::filesystem::exists(options.state_path, error))) {
      if (!open_store(*pass, options, reader, console)) {
        return nullptr;
      }
      recalled = keeps_desired(*pass->store, *digest);
    }
  }
  if (recalled) {
    pass->desired_kept = true;
  } else {
    pass->source = digestible ? adapters::load_desired(std::move(manifests), pass->settings.settings)
                              : adapters::load_desired(options.paths, options.from_db, pass->settings.app_database,
                                                       pass->settings.settings);
    problems.insert(problems.end(), pass->source.diagnostics.begin(), pass->source.diagnostics.end());
  }
  if (!problems.empty()) {
    print_diagnostics(problems, console.err);
    return nullptr;
  }
  if (!token) {
    print_error(token.error(), console.err);
    return nullptr;
  }
  if (!recalled) {
    pass->desired = model::compile(pass->source.topology, pass->settings.settings);
  }
  if (!options.write_back) {
    pass->source.topology = {};
  }
  if (!pass->store && !open_store(*pass, options, reader, console)) {
    return nullptr;
  }
  if (digest && !recalled) {
    keep_desired(*pass->store, *digest, pass->desired, *token);
  }
  if (digest) {
    pass->verdict = VerdictBasis{*digest, *token};
  }
  if (!recalled) {
    pass->manifests = {};
  }
  if (!reader) {
    auto lock = pass->store->lock(to_string(mode));
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
  if (options.now) {
    pass->clock = std::make_unique<FixedClock>(*options.now);
  } else {
    pass->clock = std::make_unique<SystemClock>();
  }
  // The pass deadline counts from the start of the pass, loading included.
  adapters::ClientOptions client = adapters::client_options(pass->settings.settings, pass->times.started);
  client.read_only = reads_only;
  pass->homeserver = std::make_unique<adapters::HttpHomeserver>(pass->settings.settings, *token, client);
  if (auto probed = probe_or_recall(*pass->homeserver, *pass->store, pass->settings.settings, *token,
                                    pass->clock->now_ms());
      !probed) {
    print_error(probed.error(), console.err);
    return nullptr;
  }
  return pass;
}

model::Result<model::MatrixState> take_desired(PassWiring& pass) {
  if (!pass.desired_kept) {
    return std::move(pass.desired);
  }
  pass.desired_kept = false;
  // Kept only under a digest, which comes with the verdict's basis.
  std::optional<std::string> sealed =
      pass.verdict && pass.store ? recall_desired_bytes(*pass.store, pass.verdict->desired_digest) : std::nullopt;
  std::optional<model::MatrixState> decoded =
      sealed ? open_desired(*sealed, pass.verdict->desired_digest, pass.verdict->secret) : std::nullopt;
  sealed.reset();
  if (decoded) {
    pass.manifests = {};
    return std::move(*decoded);
  }
  // Gone since (another pass kept other inputs' state), or kept bytes whose
  // seal does not hold or that do not decode: compiled again.
  adapters::LoadedDesired source = adapters::load_desired(std::move(pass.manifests), pass.settings.settings);
  if (!source.diagnostics.empty()) {
    std::ostringstream problems;
    print_diagnostics(source.diagnostics, problems);
    return model::fail(model::Error::Kind::invalid, problems.str());
  }
  model::MatrixState compiled = model::compile(source.topology, pass.settings.settings);
  // Kept in place of the damaged bytes, so the next pass recalls it.
  if (pass.verdict && pass.store) {
    keep_desired(*pass.store, pass.verdict->desired_digest, compiled, pass.verdict->secret);
  }
  return compiled;
}

Reconciler reconciler_for(PassWiring& pass, const PassOptions& options, Mode mode, bool dry_run) {
  ReconcileOptions reconcile = reconcile_options(pass.settings.settings, mode);
  reconcile.dry_run = dry_run;
  reconcile.allow_mass_change = options.allow_mass_change;
  reconcile.diff.upgrade_rooms = options.upgrade_rooms;
  reconcile.max_in_flight = options.max_in_flight;
  reconcile.deadline = pass.times.started + std::chrono::minutes(pass.settings.settings.pass_timeout_minutes);
  return Reconciler(*pass.homeserver, *pass.store, *pass.clock, reconcile, pass.lock.get());
}

bool write_back(const PassWiring& pass, const PassOptions& options, Console& console) {
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

}  // namespace controller
