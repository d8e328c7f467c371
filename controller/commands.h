#pragma once
// The commands behind `mxctl validate | desired | plan | apply | reconcile`.
// Each takes its options, writes to the given streams and returns the exit
// code, so main.cc only parses arguments and tests can call these directly.

#include <iosfwd>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace controller {

/// Exit codes shared by every command.
inline constexpr int k_exit_ok = 0;
inline constexpr int k_exit_error = 1;
/// `plan --detailed-exitcode` when the plan has changes.
inline constexpr int k_exit_changes = 2;

/// Options every command that talks to a homeserver shares.
struct PassOptions {
  std::string config_path;
  std::vector<std::string> paths;
  /// The app database (`--from-db URI`), alone or combined with `paths`.
  std::string from_db;
  /// After a successful apply, write the Matrix ids back to the app
  /// database (`--write-back`, needs `from_db`).
  bool write_back = false;
  /// The state store (SQLite file).
  std::string state_path = "mxctl.db";
  bool explain = false;
  /// Print request counts and timings on stderr at the end.
  bool stats = false;
  int max_in_flight = 32;
  /// The pass's clock (`--now`, ms since the epoch) for archive times and
  /// the grace period; empty: the system clock.
  std::optional<std::int64_t> now;
  /// Let through a pass the mass-change guard would stop.
  bool allow_mass_change = false;
  /// Upgrade rooms whose version is older than the desired one.
  bool upgrade_rooms = false;
};

struct PlanOptions {
  PassOptions pass;
  std::string format = "text";  ///< text, json, markdown
  bool detailed_exitcode = false;
  std::string out_path;  ///< save the plan here when not empty
};

struct ApplyOptions {
  PassOptions pass;
  std::string plan_path;  ///< apply exactly this saved plan when not empty
  bool yes = false;       ///< skip the confirmation prompt
  bool dry_run = false;
};

/// Streams and the terminal, injectable for tests.
struct Console {
  std::ostream& out;
  std::ostream& err;
  std::istream& in;
  /// stdin is a terminal, so asking for confirmation is possible.
  bool interactive = false;
  /// stderr is a terminal: progress is one line rewritten in place instead
  /// of a line per operation.
  bool progress_line = false;
};

/// `mxctl audit`: the audit log of the state store.
struct AuditOptions {
  std::string state_path = "mxctl.db";
  /// Only entries at or after this time (ms since the epoch).
  std::optional<std::int64_t> since;
  /// Only entries of this room or account key.
  std::string key;
  std::string format = "text";  ///< text, json
};

/// Prints the audit log, oldest first; exit 1 when the store cannot be read.
int run_audit(const AuditOptions& options, Console& console);

/// `mxctl unlock ID`: the pass lock to remove.
struct UnlockOptions {
  std::string state_path = "mxctl.db";
  /// The lock's id, as the refusal to take the lock showed it.
  std::string lock_id;
};

/// Removes the pass lock if its id is `options.lock_id`, for a holder the
/// operator knows is gone; the removal goes to the audit log. Exit 1 when
/// the store is not locked, the lock has another id, or the store fails.
int run_unlock(const UnlockOptions& options, Console& console);

/// `mxctl state migrate --to URI`: the store to copy and where to.
struct StateMigrateOptions {
  /// The SQLite store to copy (`--state`, MXCTL_STATE).
  std::string state_path = "mxctl.db";
  /// The PostgreSQL database to copy it into (`--to`, a postgresql:// or
  /// postgres:// URI).
  std::string to;
};

/// Copies the SQLite store into the PostgreSQL store of `options.to`, all
/// or nothing, holding both stores' pass locks
/// (adapters/store/store_migration.h), and prints the rows copied per table
/// and the next step. Exit 1, with nothing copied, when the source is not a
/// SQLite store or the destination not a PostgreSQL URI, the destination
/// store is not empty, a pass holds either lock, or the copy fails.
int run_state_migrate(const StateMigrateOptions& options, Console& console);

/// `mxctl appservice registration PATH...`: the registration to write.
struct AppserviceRegistrationOptions {
  std::string config_path;
  std::vector<std::string> paths;
  std::string from_db;
  /// The registration file (mode 600); one that exists keeps its tokens.
  std::string out;
  /// Where the homeserver reaches mxctl; empty: `url: null`.
  std::string url;
  std::string id = "mxctl";
};

/// Writes the appservice registration for the managed accounts of the
/// desired state and the alias prefix (adapters/manifests/
/// appservice_registration_writer.h), sender the bot. Exit 1 when the
/// settings or the desired state do not load, the bot is not a user of the
/// server, or an existing file is not a registration with an hs_token.
int run_appservice_registration(const AppserviceRegistrationOptions& options, Console& console);

/// `mxctl provision LOCALPART`: an account and its sync room, as a bundle.
struct ProvisionOptions {
  std::string config_path;
  std::string localpart;
  std::optional<std::string> display_name;
  std::string marker_type = "m.lotti.sync_room";
  /// Where the bundle goes (mode 600); empty: standard output.
  std::string out;
  bool rotate_password = false;
};

/// Creates (or, with rotate_password, re-keys) the account and finds or
/// creates its private sync room (adapters/homeserver/sync_account.h), then
/// prints the provisioning bundle to standard output or writes it to
/// `out`. Exit 1 on any failure, with the step and the server's errcode.
int run_provision(const ProvisionOptions& options, Console& console);

/// `from_db` (may be empty) adds the app database; `config_path` is read
/// only for its appDatabase queries.
int run_validate(const std::vector<std::string>& paths, Console& console, const std::string& from_db = "",
                 const std::string& config_path = "");
int run_desired(const std::string& config_path, const std::vector<std::string>& paths, const std::string& output,
                Console& console, const std::string& from_db = "");
int run_plan(const PlanOptions& options, Console& console);
int run_apply(const ApplyOptions& options, Console& console);
/// One non-interactive pass (what cron runs): plan, then apply what can be
/// applied. Exits 1 if anything failed or could not be planned.
int run_reconcile(const PassOptions& options, Console& console);

}  // namespace controller
