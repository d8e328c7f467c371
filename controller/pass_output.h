#pragma once
// What the commands print about a pass, apart from its progress: problems
// and errors, the plan and its notes, the guard's verdict, the prompt, the
// closing line of an apply, and --stats. The reconciler returns values; the
// words, streams and escaping are decided here.

#include <chrono>
#include <cstddef>
#include <iosfwd>
#include <string>
#include <utility>

#include "model/diagnostic.h"

namespace model {
struct Error;
struct Plan;
}  // namespace model

namespace adapters {
struct ClientStats;
}

namespace controller {

struct ApplyOutcome;
struct Console;
struct GuardVerdict;
class ProgressPrinter;

/// Every diagnostic, then "N problems found".
void print_diagnostics(const model::Diagnostics& diagnostics, std::ostream& err);

/// "Error: <message>", escaped and redacted.
void print_error(const model::Error& error, std::ostream& err);

/// "1 user", "2 users".
std::string plural(std::size_t count, const char* one, const char* many);

/// The plan as `format` says: "json", "markdown", else terraform-style text.
void print_plan(const model::Plan& plan, const std::string& format, bool explain, std::ostream& out);

/// "Note: <cache_note>." and the rate-limit note, each when not empty.
void print_plan_notes(const std::string& cache_note, const std::string& rate_limit_note, std::ostream& err);

/// "Error: N changes cannot be made as desired<tail>".
void print_plan_errors(std::size_t count, const std::string& tail, std::ostream& err);

/// The mass-change guard's objection, if any: a warning when it was let
/// through, else an error. False when it stops the pass.
bool print_mass_change(const GuardVerdict& guard, std::ostream& err);

/// Asks on the console whether to apply; true only for "yes".
bool confirm(Console& console);

/// After an apply: its error, or (the progress line cleared) its warnings,
/// a lost lock, and the closing line on stdout. True when it succeeded.
bool print_apply_outcome(const ApplyOutcome& outcome, bool dry_run, ProgressPrinter& progress, Console& console);

/// When a pass started, by the wall clock and by the process's CPU time
/// (user, system; ms), so --stats reports the pass's own CPU against the
/// pass's own wall time.
struct PassTimes {
  std::chrono::steady_clock::time_point started;
  std::pair<long, long> cpu_at_start;
};

/// The times now.
PassTimes start_pass_times();

/// How many operations an apply had in flight at once: its window's
/// narrowest and widest (0: nothing was executed).
struct InFlight {
  int narrowest = 0;
  int widest = 0;
};

/// --stats: requests, bytes and time waited on the server (`repeated_writes`:
/// the executor's repeats, which the client does not count), the window of
/// operations in flight when an apply ran, and mxctl's CPU against the wall
/// time since `times`; `unchanged`: that the converged verdict answered the
/// pass (PlannedPass::unchanged).
void print_stats(const adapters::ClientStats& stats, int repeated_writes, InFlight in_flight, const PassTimes& times,
                 std::ostream& err, bool unchanged = false);

}  // namespace controller
