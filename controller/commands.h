#pragma once
// The commands behind `mxctl validate | desired | plan | apply | reconcile`.
// Each takes its options, writes to the given streams and returns the exit
// code, so main.cc only parses arguments and tests can call these directly.

#include <iosfwd>
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
  /// The state store (SQLite file).
  std::string state_path = "mxctl.db";
  bool explain = false;
  /// Print request counts and timings on stderr at the end.
  bool stats = false;
  int max_in_flight = 8;
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

int run_validate(const std::vector<std::string>& paths, Console& console);
int run_desired(const std::string& config_path, const std::vector<std::string>& paths, const std::string& output,
                Console& console);
int run_plan(const PlanOptions& options, Console& console);
int run_apply(const ApplyOptions& options, Console& console);
/// One non-interactive pass (what cron runs): plan, then apply what can be
/// applied. Exits 1 if anything failed or could not be planned.
int run_reconcile(const PassOptions& options, Console& console);

}  // namespace controller
