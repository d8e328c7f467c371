#pragma once
// The attempts at one operation. Each goes through the concurrency window;
// a retryable failure is repeated after the retry policy's wait unless the
// pass deadline comes first; the port's answer says how the operation
// settles. The executor decides which operation goes next; this decides how
// often, and how long apart, it is tried.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "adapters/homeserver_port.h"
#include "adapters/state_store.h"
#include "controller/apply_report.h"
#include "controller/concurrency_window.h"

namespace model {
struct Operation;
}

namespace controller {

class ApplyRecorder;
struct ExecutorOptions;

/// How the attempts at one operation ended.
struct Attempted {
  OperationReport::Status status = OperationReport::Status::failed;
  /// Calls to the homeserver that counted (0 for a simulated outcome).
  int attempts = 0;
  /// For failed: "<kind>: <message>", and why it was not tried again.
  std::string error;
  /// The journal row of the last attempt, not yet written, so that it goes
  /// in with the settlement.
  adapters::JournalEntry last_attempt;
  /// What the port returned, when it succeeded.
  std::optional<adapters::OperationOutcome> outcome;
  /// Failed for good because a remote server did not answer.
  bool unreachable = false;
};

/// Makes the attempts of one apply. Thread-safe: workers call perform()
/// at once, sharing the window.
class OperationAttempts {
 public:
  /// Attempts through `port` per `options` (max_in_flight, retry, sleep,
  /// jitter_seed, deadline); journal rows come from `recorder`. All three
  /// must outlive this.
  OperationAttempts(adapters::HomeserverPort& port, const ApplyRecorder& recorder, const ExecutorOptions& options);

  /// Tries `operation` (Plan::operations[index], described as `description`)
  /// until it succeeds, fails for good, or a repetition would start after
  /// the deadline. The row of every attempt to be repeated goes to
  /// `journal_repeated` first. A simulated outcome is would_run with no
  /// attempts; an exception from the port is a terminal `invalid` failure.
  Attempted perform(std::size_t index, const model::Operation& operation, const std::string& description,
                    const adapters::ExecutionContext& context,
                    const std::function<void(const adapters::JournalEntry&)>& journal_repeated);

  /// The attempts allowed at once now.
  int window_size() const { return m_window.size(); }
  /// The fewest attempts allowed at once so far.
  int narrowest_window() const { return m_window.narrowest(); }
  /// The most attempts allowed at once so far.
  int widest_window() const { return m_window.widest(); }

 private:
  model::Result<adapters::OperationOutcome> call_port(const model::Operation& operation,
                                                      const adapters::ExecutionContext& context);

  adapters::HomeserverPort& m_port;
  const ApplyRecorder& m_recorder;
  const ExecutorOptions& m_options;
  const std::uint64_t m_seed;
  // Attempts in flight, narrowed while the homeserver rate-limits.
  ConcurrencyWindow m_window;
};

}  // namespace controller
