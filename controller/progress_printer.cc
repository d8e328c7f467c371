#include "controller/progress_printer.h"

#include <ostream>
#include <string>

#include "controller/commands.h"
#include "model/printable.h"

namespace controller {

namespace {

// How often the line-by-line progress repeats the estimate of the time left.
constexpr std::chrono::seconds k_estimate_every{5};

}  // namespace

ProgressPrinter::ProgressPrinter(Console& console, std::size_t total)
    : m_console(console), m_total(total), m_remaining(total, std::chrono::steady_clock::now()) {}

ProgressCallback ProgressPrinter::callback() {
  return [this](const OperationReport& op) { settle(op); };
}

void ProgressPrinter::settle(const OperationReport& op) {
  ++m_settled;
  const auto now = std::chrono::steady_clock::now();
  m_remaining.settled(now);
  const std::optional<std::chrono::milliseconds> left =
      m_settled < m_total ? m_remaining.estimate(now) : std::nullopt;
  const std::string counter = std::to_string(m_settled) + "/" + std::to_string(m_total);
  bool trouble = op.status == OperationReport::Status::failed || op.status == OperationReport::Status::skipped;
  // Each line goes out in one write: stderr is unbuffered, and a cold
  // apply at instance scale prints hundreds of thousands of them.
  std::string line;
  if (m_console.progress_line && !trouble) {
    // One line rewritten in place; failures still get a line of their own.
    line = "\r\033[K[" + counter + (left ? ", " + remaining_text(*left) : "") + "] " +
           model::printable(op.description);
    m_console.err << line << std::flush;
    return;
  }
  if (m_console.progress_line) {
    line = "\r\033[K";
  } else if (left && (!m_last_estimate_line || now - *m_last_estimate_line >= k_estimate_every)) {
    // Line by line, the estimate gets a line of its own now and then.
    m_last_estimate_line = now;
    line = "Progress: " + counter + " operations settled, " + remaining_text(*left) + "\n";
  }
  line += to_string(op.status) + std::string(": ") + model::printable(op.description);
  if (op.attempts > 1) {
    line += " (" + std::to_string(op.attempts) + " attempts)";
  }
  if (!op.error.empty()) {
    line += ": " + model::printable(op.error);
  }
  m_console.err << line + "\n";
}

void ProgressPrinter::finish() {
  if (m_console.progress_line && m_settled > 0) {
    m_console.err << "\r\033[K" << std::flush;
  }
}

}  // namespace controller
