#include "controller/pass_output.h"

#include <sys/resource.h>

#include <cstdint>
#include <iostream>

#include "adapters/homeserver/matrix_client.h"
#include "adapters/redact.h"
#include "controller/commands.h"
#include "controller/progress_printer.h"
#include "controller/reconciler.h"
#include "controller/render_plan.h"
#include "model/printable.h"

namespace controller {

namespace {

// User and system CPU time of this process so far, in ms.
std::pair<long, long> process_cpu_ms() {
  rusage self{};
  getrusage(RUSAGE_SELF, &self);
  auto ms = [](const timeval& tv) { return static_cast<long>(tv.tv_sec * 1000 + tv.tv_usec / 1000); };
  return {ms(self.ru_utime), ms(self.ru_stime)};
}

}  // namespace

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

void print_plan(const model::Plan& plan, const std::string& format, bool explain, std::ostream& out) {
  if (format == "json") {
    out << render_plan_json(plan);
  } else if (format == "markdown") {
    out << render_plan_markdown(plan, {explain});
  } else {
    write_plan_text(out, plan, {explain});
  }
}

void print_plan_notes(const std::string& cache_note, const std::string& rate_limit_note, std::ostream& err) {
  // A plan that could not keep its observation cache says so.
  if (!cache_note.empty()) {
    err << "Note: " << model::printable(cache_note) << ".\n";
  }
  // Synapse's default limits make a large first apply take minutes to hours;
  // say so before anyone waits for it.
  if (!rate_limit_note.empty()) {
    err << rate_limit_note << "\n";
  }
}

void print_plan_errors(std::size_t count, const std::string& tail, std::ostream& err) {
  err << "Error: " << plural(count, "change", "changes") << " cannot be made as desired" << tail << "\n";
}

bool print_mass_change(const GuardVerdict& guard, std::ostream& err) {
  if (!guard.mass_change) {
    return true;
  }
  if (guard.mass_change_allowed) {
    err << "Warning: " << *guard.mass_change << " (allowed by --allow-mass-change)\n";
    return true;
  }
  err << "Error: mass-change guard: " << *guard.mass_change << "; nothing was changed\n";
  return false;
}

bool confirm(Console& console) {
  console.out << "\nDo you want to perform these actions?\n  Only 'yes' will be accepted to approve.\n\n"
              << "  Enter a value: " << std::flush;
  std::string answer;
  std::getline(console.in, answer);
  return answer == "yes";
}

bool print_apply_outcome(const ApplyOutcome& outcome, bool dry_run, ProgressPrinter& progress, Console& console) {
  if (outcome.error) {
    print_error(*outcome.error, console.err);
    return false;
  }
  if (!outcome.report) {
    return false;
  }
  progress.finish();
  for (const std::string& warning : outcome.report->warnings) {
    console.err << "Warning: " << model::printable(warning) << "\n";
  }
  if (outcome.lock_lost) {
    console.err << "Warning: another process took over the pass lock while this pass ran (its lease was not "
                   "renewed in time); check the audit log for what both did\n";
  }
  console.out << "\n" << apply_summary(*outcome.report, dry_run) << "\n";
  return outcome.ok();
}

PassTimes start_pass_times() {
  return {std::chrono::steady_clock::now(), process_cpu_ms()};
}

void print_stats(const adapters::ClientStats& stats, int repeated_writes, InFlight in_flight, const PassTimes& times,
                 std::ostream& err, bool unchanged) {
  auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - times.started);
  err << "Pass took " << wall.count() << " ms. Requests: " << stats.reads + stats.writes << " (" << stats.reads
      << " reads, " << stats.writes << " writes, " << stats.retries + static_cast<std::uint64_t>(repeated_writes)
      << " retried), " << stats.bytes_sent << " bytes sent, " << stats.bytes_received << " bytes received, "
      << stats.waiting.count() / 1000 << " ms in requests (summed over concurrent requests)\n";
  if (unchanged) {
    err << "Nothing the last pass read has changed, and it found nothing to do: no plan was made "
           "(the converged verdict)\n";
  }
  if (in_flight.widest > 0) {
    err << "Operations in flight at once: " << in_flight.narrowest << " to " << in_flight.widest
        << " (the window follows the server's latency and 429s)\n";
  }
  // Own CPU against wall tells an operator whether a slow pass is mxctl's
  // work or waiting on the server (the rest of the wall time).
  const auto [user_now, system_now] = process_cpu_ms();
  long user_ms = user_now - times.cpu_at_start.first;
  long system_ms = system_now - times.cpu_at_start.second;
  long share = wall.count() > 0 ? (user_ms + system_ms) * 100 / wall.count() : 0;
  err << "mxctl CPU: " << user_ms + system_ms << " ms (" << user_ms << " user, " << system_ms << " system), "
      << share << "% of " << wall.count() << " ms wall; the rest is waiting on the server\n";
}

}  // namespace controller
