// mxctl: the command line. Parses arguments and hands each command to
// controller/commands.h, which does the work and chooses the exit code
// (0 success, 1 error, 2 changes present under plan --detailed-exitcode).

#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "adapters/redact.h"
#include "adapters/state_store.h"
#include "controller/clock.h"
#include "controller/commands.h"
#include "controller/run_command.h"
#include "controller/version.h"

namespace {

// --from-db, for every command that reads the desired state.
void add_from_db(CLI::App* command, std::string& from_db) {
  command->add_option("--from-db", from_db,
                      "Read the desired state from the app database: sqlite:///path/app.db, postgresql://... or "
                      "\"host=... dbname=...\" (with manifest paths too: both combined)")
      ->envname("MXCTL_FROM_DB");
}

// A time option parsed by controller::parse_time_ms; a bad value is a usage error.
void add_time_option(CLI::App* command, const std::string& name, std::optional<std::int64_t>& out,
                     const std::string& help) {
  command->add_option_function<std::string>(
      name,
      [name, &out](const std::string& text) {
        auto ms = controller::parse_time_ms(text);
        if (!ms) {
          throw CLI::ValidationError(name, "\"" + text + "\" is not a UTC time like 2026-11-23 or 2026-11-23T10:00:00Z");
        }
        out = *ms;
      },
      help);
}

// Options shared by plan, apply and reconcile.
void add_pass_options(CLI::App* command, controller::PassOptions& pass) {
  add_from_db(command, pass.from_db);
  command->add_option("--state", pass.state_path, "State store: a SQLite file, or a postgresql:// URI (replicas)")
      ->envname("MXCTL_STATE")
      ->capture_default_str();
  command->add_flag("--explain", pass.explain, "Show why each change and operation is planned");
  command->add_flag("--stats", pass.stats, "Print request counts, bytes and time spent waiting on the server");
  command->add_option("--parallel", pass.max_in_flight, "Most operations in flight at once while applying (the window starts at 2 and follows the server: wider while its latency holds, narrower when it rises or 429s come)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  add_time_option(command, "--now", pass.now,
                  "Act as if it were this time (UTC: 2026-11-23 or 2026-11-23T10:00:00Z), for drills and tests "
                  "of archive dates and the grace period");
  command->add_flag("--allow-mass-change", pass.allow_mass_change,
                    "Let through a pass that would archive, delete or suspend more than the configured share "
                    "(massChangeMaxPercent, default 20%) or number (massChangeMaxCount) of managed objects");
  command->add_flag("--upgrade-rooms", pass.upgrade_rooms,
                    "Upgrade rooms whose room version is older than the desired one (roomVersion): the new room "
                    "gets the marker at once, its space links and members in the next pass; the old room keeps "
                    "its tombstone");
}

// `state migrate`: --to must name a PostgreSQL database and --state (or
// MXCTL_STATE) a SQLite file; either the other way round is a usage error.
// The source is checked after parsing: CLI11 checks an option's variable
// even when its subcommand is not the one given, and MXCTL_STATE names a
// PostgreSQL store wherever replicas run.
CLI::Validator postgres_destination() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        if (adapters::is_postgres_store(value)) {
          return {};
        }
        return "\"" + adapters::redact_database_uri(value) +
               "\" is not a PostgreSQL database: give a postgresql:// or postgres:// URI";
      },
      "URI");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mxctl keeps a Matrix homeserver's accounts, spaces, rooms, memberships and power levels\n"
               "in line with a declared topology (YAML manifests and/or the application's database)."};
  app.name("mxctl");
  app.set_version_flag("--version", std::string("mxctl ") + controller::version());
  app.require_subcommand(1);
  app.footer(
      "Settings: --config FILE (YAML) and the environment: MATRIX_HOMESERVER_URL, MATRIX_SERVER_NAME,\n"
      "MATRIX_BOT_USER_ID, MATRIX_BOT_ACCESS_TOKEN or MATRIX_BOT_ACCESS_TOKEN_FILE. Tokens are never read\n"
      "from manifests or the config file, and never printed.");

  std::string config_path;
  app.add_option("-c,--config", config_path, "Settings file (YAML); the MATRIX_* environment overrides it")
      ->envname("MXCTL_CONFIG")
      ->check(CLI::ExistingFile);

  std::vector<std::string> validate_paths;
  CLI::App* validate = app.add_subcommand(
      "validate", "Check manifests and report every problem as path:line:col: message; contacts no server");
  std::string validate_from_db;
  validate->add_option("paths", validate_paths, "Manifest files or directories (searched for *.yaml, *.yml)");
  add_from_db(validate, validate_from_db);

  std::vector<std::string> desired_paths;
  std::string desired_output = "text";
  CLI::App* desired = app.add_subcommand(
      "desired", "Compile manifests into the desired Matrix state and print it; contacts no server");
  std::string desired_from_db;
  desired->add_option("paths", desired_paths, "Manifest files or directories");
  add_from_db(desired, desired_from_db);
  desired->add_option("-o,--output", desired_output, "Output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();

  controller::PlanOptions plan_options;
  CLI::App* plan = app.add_subcommand(
      "plan",
      "Show what apply would change on the homeserver; changes nothing there, takes no lock, and reads a state store "
      "it cannot write (it keeps only its observation cache in one it can, while no pass holds the lock)");
  plan->add_option("paths", plan_options.pass.paths, "Manifest files or directories");
  add_pass_options(plan, plan_options.pass);
  plan->add_option("--format", plan_options.format, "Output format")
      ->check(CLI::IsMember({"text", "json", "markdown"}))
      ->capture_default_str();
  plan->add_flag("--detailed-exitcode", plan_options.detailed_exitcode,
                 "Exit 0 when there are no changes, 2 when there are, 1 on error");
  plan->add_option("--out", plan_options.out_path, "Save the plan for `apply --plan FILE`");

  controller::ApplyOptions apply_options;
  CLI::App* apply = app.add_subcommand(
      "apply", "Plan, confirm, and carry out the changes, holding the state store's pass lock (see unlock)");
  apply->add_option("paths", apply_options.pass.paths, "Manifest files or directories");
  add_pass_options(apply, apply_options.pass);
  apply->add_option("--plan", apply_options.plan_path,
                    "Apply exactly this saved plan; refused if the manifests or the homeserver changed since");
  apply->add_flag("-y,--yes", apply_options.yes, "Do not ask for confirmation (required without a terminal)");
  apply->add_flag("--dry-run", apply_options.dry_run, "Walk the plan without changing anything");
  apply->add_flag("--write-back", apply_options.pass.write_back,
                  "After a successful apply, write the Matrix ids back to the --from-db database");

  controller::PassOptions reconcile_options;
  CLI::App* reconcile =
      app.add_subcommand("reconcile", "One non-interactive pass (for cron): plan and apply what can be applied, "
                                      "holding the state store's pass lock (see unlock)");
  reconcile->add_option("paths", reconcile_options.paths, "Manifest files or directories");
  add_pass_options(reconcile, reconcile_options);
  reconcile->add_flag("--write-back", reconcile_options.write_back,
                      "After a successful pass, write the Matrix ids back to the --from-db database");

  controller::RunOptions run_options;
  std::string run_log_format = "text";
  CLI::App* run = app.add_subcommand(
      "run", "The long-running controller: a pass at start, then a targeted pass whenever a managed room drifts "
             "(watched through /sync, or pushed to --appservice-listen in appservice mode) or the desired state "
             "changes (manifests watched, --from-db polled), and a "
             "full resync every resyncIntervalMinutes. Holds the pass lock for its whole life; on a "
             "postgresql:// --state, replicas stand by while another holds it and the first to get it leads. "
             "SIGTERM/SIGINT: "
             "finish the operations in flight (shutdownGraceSeconds) and exit 0; SIGHUP: reload the config and "
             "the desired state");
  run->add_option("paths", run_options.paths, "Manifest files or directories (watched for changes)");
  add_from_db(run, run_options.from_db);
  run->add_option("--state", run_options.state_path, "State store: a SQLite file, or a postgresql:// URI (replicas)")
      ->envname("MXCTL_STATE")
      ->capture_default_str();
  run->add_option("--parallel", run_options.max_in_flight, "Most operations in flight at once while applying (the window starts at 2 and follows the server: wider while its latency holds, narrower when it rises or 429s come)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  run->add_option("--listen", run_options.listen,
                  "Serve /metrics, /healthz and /readyz at ADDR:PORT (an IP address; [::1]:PORT for IPv6; port 0: "
                  "any free port, logged at start); default: the config's listen, else 127.0.0.1:9464");
  run->add_option("--appservice-listen", run_options.appservice_listen,
                  "With provisioning: appservice, serve the application-service API (transactions, user and room "
                  "alias queries, ping) to the homeserver at ADDR:PORT, the registration's url; transactions then "
                  "wake a targeted pass. Default: the config's appserviceListen, else not served");
  run->add_option("--log-format", run_log_format, "Log lines as text, or as one JSON object per line")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();

  controller::AuditOptions audit_options;
  CLI::App* audit = app.add_subcommand(
      "audit", "Print the audit log of applied actions (time, action, key, id, before/after, result)");
  audit->add_option("--state", audit_options.state_path, "State store: a SQLite file, or a postgresql:// URI (replicas)")
      ->envname("MXCTL_STATE")
      ->capture_default_str();
  add_time_option(audit, "--since", audit_options.since, "Only entries at or after this UTC time");
  audit->add_option("--key", audit_options.key, "Only entries of this room or account key (e.g. community/riverside)");
  audit->add_option("--format", audit_options.format, "Output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();

  controller::UnlockOptions unlock_options;
  CLI::App* unlock = app.add_subcommand(
      "unlock",
      "Remove the pass lock ID of a pass that is gone (the id is in the message that refused the lock), and record "
      "that in the audit log. A running pass renews its lock's lease; a lock not renewed for 60 s is taken over by "
      "the next pass anyway. On a PostgreSQL store the lock ends with its holder's database session, and only the "
      "row naming a holder whose session ended can be removed");
  unlock->add_option("id", unlock_options.lock_id, "The lock's id, as the refusal showed it")->required();
  unlock->add_option("--state", unlock_options.state_path, "State store: a SQLite file, or a postgresql:// URI (replicas)")
      ->envname("MXCTL_STATE")
      ->capture_default_str();

  controller::StateMigrateOptions migrate_options;
  CLI::App* state = app.add_subcommand("state", "Manage the state store itself (see migrate)");
  state->require_subcommand(1);
  CLI::App* migrate = state->add_subcommand(
      "migrate",
      "Copy the SQLite state store (--state) into the PostgreSQL database --to names, for replicas: every table "
      "but the lock, with its ids and serial, in one transaction (all or nothing), holding both stores' pass "
      "locks, and checked row for row. Refused, with nothing copied, when the store there is not empty. The "
      "SQLite file is left as it was. Then `mxctl plan --state URI` should show no changes; point MXCTL_STATE at "
      "the URI after that");
  migrate->add_option("--to", migrate_options.to,
                      "The PostgreSQL database: postgresql://user@host/db or postgres://... (its store is made there)")
      ->required()
      ->check(postgres_destination());
  migrate->add_option("--state", migrate_options.state_path, "The SQLite state store to copy")
      ->envname("MXCTL_STATE")
      ->capture_default_str();

  controller::AppserviceRegistrationOptions registration_options;
  CLI::App* appservice = app.add_subcommand("appservice", "Application service set-up");
  appservice->require_subcommand(1);
  CLI::App* registration = appservice->add_subcommand(
      "registration",
      "Write the appservice registration the homeserver loads (Synapse: app_service_config_files): new random "
      "as_token and hs_token (a file that exists keeps its own), sender the bot, rate_limited false, and "
      "exclusive namespaces for every managed account of PATH... (or --from-db) and every alias under the "
      "aliasPrefix. Written with mode 600; the tokens are printed nowhere. Write it again after adding accounts");
  registration->add_option("paths", registration_options.paths, "Manifest files or directories");
  registration->add_option("--from-db", registration_options.from_db, "Read the desired state from the app database")
      ->envname("MXCTL_FROM_DB");
  registration->add_option("--out", registration_options.out, "The registration file to write")->required();
  registration->add_option("--url", registration_options.url,
                           "Where the homeserver reaches mxctl (default: none, url: null)");
  registration->add_option("--id", registration_options.id, "The registration's id")->capture_default_str();

  controller::ProvisionOptions provision_options;
  CLI::App* provision = app.add_subcommand(
      "provision",
      "Create the account LOCALPART with a random password and a private, encrypted, non-federating sync room "
      "carrying a marker (Synapse admin API), and print the provisioning bundle (URL-safe base64 of "
      "{v:1, homeServer, user, password, roomId}) for the person's first device. In appservice mode the account "
      "is registered by the appservice, which cannot give it a password: the bundle is {v:2, homeServer, user, "
      "accessToken, deviceId, roomId}, a device logged in for it. A second run finds the room by its marker; an "
      "existing account needs --rotate-password, as mxctl never keeps credentials");
  provision->add_option("localpart", provision_options.localpart, "The account's localpart")->required();
  provision->add_option("--display-name", provision_options.display_name,
                        "Display name of the account, and name of its room");
  provision->add_option("--marker-type", provision_options.marker_type,
                        "State event type that marks the sync room")
      ->capture_default_str();
  provision->add_option("--out", provision_options.out,
                        "Write the bundle to this file (mode 600) instead of standard output");
  provision->add_flag("--rotate-password", provision_options.rotate_password,
                      "Give an existing account a new password (appservice mode: a new access token) for the "
                      "bundle; its devices are logged out");

  try {
    app.parse(argc, argv);
    // Manifest paths are required unless the app database is the source.
    bool no_source = (*validate && validate_paths.empty() && validate_from_db.empty()) ||
                     (*desired && desired_paths.empty() && desired_from_db.empty()) ||
                     (*plan && plan_options.pass.paths.empty() && plan_options.pass.from_db.empty()) ||
                     (*reconcile && reconcile_options.paths.empty() && reconcile_options.from_db.empty()) ||
                     (*run && run_options.paths.empty() && run_options.from_db.empty()) ||
                     (*registration && registration_options.paths.empty() && registration_options.from_db.empty());
    if (no_source) {
      throw CLI::RequiredError("paths");
    }
    if (*migrate && adapters::is_postgres_store(migrate_options.state_path)) {
      throw CLI::ValidationError("--state", "\"" + adapters::redact_database_uri(migrate_options.state_path) +
                                                "\" is a PostgreSQL store; state migrate copies a SQLite store "
                                                "(give --state its file)");
    }
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  controller::Console console{std::cout, std::cerr, std::cin, isatty(STDIN_FILENO) != 0,
                              isatty(STDERR_FILENO) != 0};
  try {
    if (*validate) {
      return controller::run_validate(validate_paths, console, validate_from_db, config_path);
    }
    if (*desired) {
      return controller::run_desired(config_path, desired_paths, desired_output, console, desired_from_db);
    }
    plan_options.pass.config_path = config_path;
    apply_options.pass.config_path = config_path;
    reconcile_options.config_path = config_path;
    if (*plan) {
      return controller::run_plan(plan_options, console);
    }
    if (*apply) {
      return controller::run_apply(apply_options, console);
    }
    if (*reconcile) {
      return controller::run_reconcile(reconcile_options, console);
    }
    if (*run) {
      run_options.config_path = config_path;
      run_options.log_format =
          run_log_format == "json" ? controller::LogFormat::json : controller::LogFormat::text;
      return controller::run_controller(run_options, console);
    }
    if (*audit) {
      return controller::run_audit(audit_options, console);
    }
    if (*unlock) {
      return controller::run_unlock(unlock_options, console);
    }
    if (*migrate) {
      return controller::run_state_migrate(migrate_options, console);
    }
    if (*registration) {
      registration_options.config_path = config_path;
      return controller::run_appservice_registration(registration_options, console);
    }
    if (*provision) {
      provision_options.config_path = config_path;
      return controller::run_provision(provision_options, console);
    }
  } catch (const std::exception& e) {
    // Adapters return errors as values; anything reaching here is a bug, but
    // an operator still deserves a message and a failing exit code.
    std::cerr << "mxctl: internal error: " << e.what() << "\n";
    return controller::k_exit_error;
  }
  return controller::k_exit_error;
}
