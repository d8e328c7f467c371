#pragma once
// The progress of an apply on stderr, as operations settle: one line
// rewritten in place on a terminal, else a line per operation with the
// estimate of the time left on a line of its own now and then.

#include <chrono>
#include <cstddef>
#include <optional>

#include "controller/executor.h"
#include "controller/remaining_time.h"

namespace controller {

struct Console;

/// Prints each settled operation of an apply of `total` operations.
class ProgressPrinter {
 public:
  /// The estimate counts from now, when the apply starts.
  ProgressPrinter(Console& console, std::size_t total);

  /// A callback for the executor that prints through this printer, which
  /// must outlive it.
  ProgressCallback callback();
  /// Prints one settled operation.
  void settle(const OperationReport& op);
  /// Clears the line rewritten in place, if any was printed.
  void finish();

 private:
  Console& m_console;
  const std::size_t m_total;
  std::size_t m_settled = 0;
  /// The time left from the measured rate: the rate-limit note before the
  /// apply can only assume the server's limits.
  RemainingTime m_remaining;
  std::optional<std::chrono::steady_clock::time_point> m_last_estimate_line;
};

}  // namespace controller
