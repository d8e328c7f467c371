#include "controller/operation_attempts.h"

#include <chrono>
#include <exception>
#include <random>
#include <utility>

#include "adapters/redact.h"
#include "controller/apply_recorder.h"
#include "controller/apply_records.h"
#include "controller/executor.h"
#include "model/plan.h"
#include "model/result.h"

namespace controller {

namespace {
using Status = OperationReport::Status;
}  // namespace

OperationAttempts::OperationAttempts(adapters::HomeserverPort& port, const ApplyRecorder& recorder,
                                     const ExecutorOptions& options)
    : m_port(port),
      m_recorder(recorder),
      m_options(options),
      m_seed(options.jitter_seed ? *options.jitter_seed : std::random_device{}()),
      m_window(options.start_in_flight, options.max_in_flight) {}

Attempted OperationAttempts::perform(std::size_t index, const model::Operation& operation,
                                     const std::string& description, const adapters::ExecutionContext& context,
                                     const std::function<void(const adapters::JournalEntry&)>& journal_repeated) {
  // Seeded per operation, so that delays do not depend on thread scheduling.
  JitterEngine rng(m_seed + index);
  RetryState retry;
  for (int attempt = 1;; ++attempt) {
    // Requests of one kind take about as long: latency is judged by kind.
    const ConcurrencyWindow::Ticket ticket = m_window.acquire(static_cast<int>(operation.kind));
    model::Result<adapters::OperationOutcome> result = call_port(operation, context);
    m_window.release(ticket, !result && result.error().kind == model::Error::Kind::rate_limited);
    if (result) {
      Status status = result->simulated      ? Status::would_run
                      : result->already_done ? Status::already_done
                                             : Status::succeeded;
      return {status, result->simulated ? 0 : attempt, {},
              m_recorder.journal_entry(description, status, attempt, {}, {}), std::move(*result)};
    }
    const model::Error& error = result.error();
    std::string message = adapters::redact(error.message, {});
    adapters::JournalEntry entry =
        m_recorder.journal_entry(description, Status::failed, attempt, error.errcode, message);
    std::optional<std::chrono::milliseconds> delay = retry_delay(m_options.retry, error, retry, rng);
    const bool too_late =
        delay && m_options.deadline && std::chrono::steady_clock::now() + *delay > *m_options.deadline;
    const bool stopping = delay && m_options.stopping && m_options.stopping->load();
    if (!delay || too_late || stopping) {
      std::string why = std::string(model::to_string(error.kind)) + ": " + message;
      if (stopping) {
        why += "; not tried again: mxctl is stopping";
      } else if (too_late) {
        why += "; not tried again: the pass deadline (passTimeoutMinutes) comes first";
      } else if (error.kind == model::Error::Kind::rate_limited) {
        why += "; not tried again: waiting once more would take it past " +
               std::to_string(m_options.retry.rate_limit_budget.count() / 1000) +
               " s of rate-limit waits, the most one operation waits";
      }
      return {Status::failed, attempt, why, std::move(entry), std::nullopt,
              error.kind == model::Error::Kind::unreachable};
    }
    journal_repeated(entry);
    if (m_options.sleep) {
      m_options.sleep(*delay);
    } else {
      sleep_for_real(*delay);
    }
  }
}

model::Result<adapters::OperationOutcome> OperationAttempts::call_port(const model::Operation& operation,
                                                                       const adapters::ExecutionContext& context) {
  // An exception escaping a worker thread would end the process; contain
  // it as a terminal failure of this one operation.
  try {
    return m_port.execute(operation, context);
  } catch (const std::exception& e) {
    return model::fail(model::Error::Kind::invalid, std::string("internal error: ") + e.what());
  } catch (...) {
    return model::fail(model::Error::Kind::invalid, "internal error: unknown exception");
  }
}

}  // namespace controller
