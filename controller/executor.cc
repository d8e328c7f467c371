#include "controller/executor.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <random>
#include <set>
#include <system_error>
#include <thread>
#include <utility>

#include "adapters/homeserver_port.h"
#include "adapters/redact.h"
#include "adapters/state_store.h"
#include "controller/apply_records.h"
#include "controller/concurrency_window.h"
#include "controller/write_scheduler.h"
#include "controller/write_targets.h"
#include "model/matrix_state.h"
#include "model/plan.h"
#include "model/result.h"

namespace controller {

namespace {

using Status = OperationReport::Status;

// The port a dry run walks the plan with: every call "succeeds" at once and
// touches nothing, so the walk itself (order, dependencies) is the real one.
class NoopPort final : public adapters::HomeserverPort {
 public:
  model::Result<adapters::Observation> observe(const model::MatrixState&, const adapters::ObserveHints&) override {
    return adapters::Observation{};
  }
  model::Result<adapters::OperationOutcome> execute(const model::Operation&,
                                                    const adapters::ExecutionContext&) override {
    return adapters::OperationOutcome{};
  }
};

// One execute_plan call. Each worker thread takes the lowest ready
// operation the scheduler lets start (none writing to a room another one is
// writing to), performs it, and settles it itself: journals and audits it,
// releases or skips what depends on it, and goes on with the next ready
// operation. An operation thus costs no hand-off between threads; a worker
// wakes another only when it releases more work than it takes itself. The
// calling thread waits for the end, and meanwhile commits the store's
// grouped writes as they come due.
class Execution {
 public:
  Execution(const model::Plan& plan, const model::MatrixState& desired, adapters::HomeserverPort& port,
            adapters::StateStore& store, std::int64_t run_id, const ExecutorOptions& options,
            std::map<std::string, std::string> known_room_ids, ProgressCallback progress)
      : m_plan(plan),
        m_desired(desired),
        m_port(options.dry_run ? static_cast<adapters::HomeserverPort&>(m_noop) : port),
        m_store(store),
        m_options(options),
        m_progress(std::move(progress)),
        m_seed(options.jitter_seed ? *options.jitter_seed : std::random_device{}()),
        m_records(store, desired, run_id, options.dry_run, options.now, std::move(known_room_ids)),
        m_unmet(plan.operations.size(), 0),
        m_dependents(plan.operations.size()),
        m_settled(plan.operations.size(), false),
        m_scheduler(plan.operations.size()),
        m_window(options.max_in_flight) {
    m_report.operations.resize(plan.operations.size());
    for (std::size_t i = 0; i < plan.operations.size(); ++i) {
      m_report.operations[i].index = i;
      m_report.operations[i].description = model::describe(plan.operations[i]);
    }
  }

  ApplyReport run() {
    const std::size_t count = m_plan.operations.size();
    std::vector<std::size_t> invalid;
    for (std::size_t i = 0; i < count; ++i) {
      m_scheduler.set_claims(i, rooms_written(m_plan.operations[i]), invited_server(m_plan.operations[i]));
      // A set, so that an operation listing a dependency twice waits for it once.
      std::set<std::size_t> deps(m_plan.operations[i].depends_on.begin(), m_plan.operations[i].depends_on.end());
      for (std::size_t dep : deps) {
        if (dep >= count || dep == i) {
          invalid.push_back(i);
          break;
        }
      }
      if (!invalid.empty() && invalid.back() == i) {
        continue;
      }
      m_unmet[i] = deps.size();
      for (std::size_t dep : deps) {
        m_dependents[dep].push_back(i);
      }
      if (deps.empty()) {
        m_ready.push_back(i);
      }
    }
    if (!m_options.dry_run) {
      // A journal and an audit row per operation, each its own transaction,
      // cost more than the operation's own request against a fast server.
      if (auto grouped = m_store.set_group_commit(adapters::GroupCommit{}); !grouped) {
        m_records.warn("could not group the journal's writes: " + grouped.error().message);
      }
      m_records.journal_creations(m_plan);
    }
    // No worker runs yet; the lock is taken because settling expects it.
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      for (std::size_t i : invalid) {
        settle_unattempted(i, Status::failed,
                           "invalid: the plan makes this operation depend on a missing operation or itself");
      }
    }
    run_workers();
    for (std::size_t i = 0; i < count; ++i) {
      if (!m_settled[i]) {
        settle_unattempted(i, Status::skipped, "skipped: its dependencies form a cycle, so it could never start");
      }
    }
    if (!m_options.dry_run) {
      // Everything this apply recorded is durable before the caller goes on
      // (and before it releases the lock).
      if (auto ended = m_store.set_group_commit(std::nullopt); !ended) {
        m_records.warn("could not commit the journal and audit log: " + ended.error().message);
      }
    }
    tally();
    return std::move(m_report);
  }

 private:
  struct Settled {
    std::size_t index;
    Status status;
    int attempts;
    std::string error;
  };

  // How perform() left an operation: its settlement, the journal row of its
  // last attempt (not yet written, so that it goes in with the settlement)
  // and, when it succeeded, what it produced.
  struct Performed {
    Settled settled;
    adapters::JournalEntry last_attempt;
    std::optional<adapters::OperationOutcome> outcome;
    bool unreachable = false;  // failed for good because a remote server did not answer
  };

  // A server an invite could not reach, and the invites to it skipped since.
  struct Unreachable {
    std::string error;
    int skipped = 0;
  };

  // Starts the workers and waits until they have run out of work.
  void run_workers() {
    if (m_ready.empty()) {
      return;
    }
    for (std::size_t i : m_ready) {
      if (!m_settled[i]) {
        m_scheduler.ready(i);
      }
    }
    const auto limit = static_cast<std::size_t>(std::max(1, m_options.max_in_flight));
    // No more threads than operations: a plan of three needs no eight workers.
    const std::size_t count = std::min(limit, m_plan.operations.size());
    std::vector<std::thread> workers;
    workers.reserve(count);
    try {
      for (std::size_t i = 0; i < count; ++i) {
        workers.emplace_back([this] { work(); });
      }
    } catch (const std::system_error& e) {
      // Fewer workers only means less concurrency.
      std::lock_guard<std::mutex> lock(m_mutex);
      m_records.warn(std::string("started ") + std::to_string(workers.size()) + " of " +
                           std::to_string(count) + " workers: " + e.what());
    }
    if (workers.empty()) {
      work();
      return;
    }
    {
      std::unique_lock<std::mutex> lock(m_mutex);
      // Grouped store writes are committed at the next write once due; while
      // every worker waits on the homeserver (a long retry wait) nothing is
      // written, so this thread commits at that interval, which keeps the
      // store's bound on what a killed process can lose.
      const auto interval = adapters::GroupCommit{}.max_age;
      while (!m_finished_cv.wait_for(lock, interval, [this] { return m_finished; })) {
        if (!m_options.dry_run) {
          if (auto flushed = m_store.flush(); !flushed) {
            m_records.warn("could not commit the journal and audit log: " + flushed.error().message);
          }
        }
      }
    }
    for (std::thread& worker : workers) {
      worker.join();
    }
  }

  // One worker: takes the lowest operation that may start, performs it
  // without the lock, settles it with the lock, until nothing is ready or
  // running.
  void work() {
    std::unique_lock<std::mutex> lock(m_mutex);
    for (;;) {
      std::optional<std::size_t> next = m_scheduler.take();
      while (!next && m_running > 0) {
        ++m_idle;
        m_work_cv.wait(lock);
        --m_idle;
        next = m_scheduler.take();
      }
      if (!next) {
        // Nothing runs that could release more: this pass's walk is over.
        m_finished = true;
        m_work_cv.notify_all();
        m_finished_cv.notify_one();
        return;
      }
      const std::size_t index = *next;
      if (skip_unreachable(index) || skip_late(index)) {
        wake_idle();
        continue;
      }
      ++m_running;
      adapters::ExecutionContext context;
      context.desired = &m_desired;
      context.room_ids = m_records.ids_for(m_plan.operations[index]);
      lock.unlock();
      Performed performed = perform(index, context);
      lock.lock();
      --m_running;
      m_scheduler.release(index);
      learn_server(index, performed);
      m_records.journal(performed.last_attempt);
      if (performed.outcome) {
        m_records.remember(m_plan.operations[index], *performed.outcome);
      }
      settle(std::move(performed.settled));
      wake_idle();
    }
  }

  // With the lock held, after settling: this worker takes one ready
  // operation itself; idle ones take the rest.
  void wake_idle() {
    const std::size_t candidates = m_scheduler.candidates();
    const std::size_t extra = candidates == 0 ? 0 : candidates - 1;
    for (std::size_t n = std::min(extra, m_idle); n > 0; --n) {
      m_work_cv.notify_one();
    }
  }

  // With the lock held: what an invite's outcome says about its invitee's
  // server. One success proves it answers, so the other invites to it need
  // not wait; an unreachable answer is remembered for the rest of the pass.
  void learn_server(std::size_t index, const Performed& performed) {
    const std::string server = invited_server(m_plan.operations[index]);
    if (server.empty()) {
      return;
    }
    if (performed.settled.status == Status::succeeded) {
      m_scheduler.open(server);
    } else if (performed.unreachable) {
      m_unreachable.emplace(server, Unreachable{performed.settled.error, 0});
      m_scheduler.open(server);
    }
  }

  // With the lock held: settles an invite to a server found unreachable in
  // this pass without a request; false for every other operation.
  bool skip_unreachable(std::size_t index) {
    auto server = m_unreachable.find(invited_server(m_plan.operations[index]));
    if (server == m_unreachable.end()) {
      return false;
    }
    ++server->second.skipped;
    settle_unattempted(index, Status::skipped, "skipped: server " + server->first + " unreachable");
    m_scheduler.release(index);
    return true;
  }

  // With the lock held: settles an operation taken after the pass deadline
  // without a request; false before the deadline.
  bool skip_late(std::size_t index) {
    if (!m_options.deadline || std::chrono::steady_clock::now() < *m_options.deadline) {
      return false;
    }
    settle_unattempted(index, Status::skipped,
                       "skipped: the pass deadline (passTimeoutMinutes) passed before it could start");
    m_scheduler.release(index);
    return true;
  }

  // Runs without the lock: all attempts at one operation. Attempts that
  // will be repeated are journalled here; the last one is left to the caller.
  Performed perform(std::size_t index, const adapters::ExecutionContext& context) {
    const model::Operation& operation = m_plan.operations[index];
    const std::string& description = m_report.operations[index].description;
    JitterEngine rng(m_seed + index);
    RetryState retry;
    for (int attempt = 1;; ++attempt) {
      const ConcurrencyWindow::Ticket ticket = m_window.acquire();
      model::Result<adapters::OperationOutcome> result = call_port(operation, context);
      m_window.release(ticket, !result && result.error().kind == model::Error::Kind::rate_limited);
      if (result) {
        Status status = m_options.dry_run      ? Status::would_run
                        : result->already_done ? Status::already_done
                                               : Status::succeeded;
        return {{index, status, m_options.dry_run ? 0 : attempt, {}},
                m_records.journal_entry(description, status, attempt, {}, {}),
                std::move(*result)};
      }
      const model::Error& error = result.error();
      std::string message = adapters::redact(error.message, {});
      adapters::JournalEntry entry =
          m_records.journal_entry(description, Status::failed, attempt, error.errcode, message);
      std::optional<std::chrono::milliseconds> delay = retry_delay(m_options.retry, error, retry, rng);
      const bool too_late =
          delay && m_options.deadline && std::chrono::steady_clock::now() + *delay > *m_options.deadline;
      if (!delay || too_late) {
        std::string why = std::string(model::to_string(error.kind)) + ": " + message;
        if (too_late) {
          why += "; not tried again: the pass deadline (passTimeoutMinutes) comes first";
        } else if (error.kind == model::Error::Kind::rate_limited) {
          why += "; not tried again: waiting once more would take it past " +
                 std::to_string(m_options.retry.rate_limit_budget.count() / 1000) +
                 " s of rate-limit waits, the most one operation waits";
        }
        return {{index, Status::failed, attempt, why}, std::move(entry), std::nullopt,
                error.kind == model::Error::Kind::unreachable};
      }
      if (!m_options.dry_run) {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_records.journal(entry);
      }
      if (m_options.sleep) {
        m_options.sleep(*delay);
      } else {
        sleep_for_real(*delay);
      }
    }
  }

  model::Result<adapters::OperationOutcome> call_port(const model::Operation& operation,
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

  // Records the outcome, tells the caller, and releases or skips the
  // operations waiting on it.
  void settle(Settled settled) {
    const std::size_t index = settled.index;
    if (m_settled[index]) {
      return;
    }
    m_settled[index] = true;
    m_records.audit(m_plan.operations[index], settled.status, settled.error);
    OperationReport& report = m_report.operations[index];
    report.status = settled.status;
    report.attempts = settled.attempts;
    report.error = std::move(settled.error);
    if (m_progress) {
      // An exception escaping a worker thread would end the process.
      try {
        m_progress(report);
      } catch (const std::exception& e) {
        m_records.warn(std::string("progress report failed: ") + e.what());
      }
    }
    const bool ok = settled.status == Status::succeeded || settled.status == Status::already_done ||
                    settled.status == Status::would_run;
    if (ok) {
      for (std::size_t dependent : m_dependents[index]) {
        if (--m_unmet[dependent] == 0 && !m_settled[dependent]) {
          m_scheduler.ready(dependent);
        }
      }
      return;
    }
    // Skips carry the failure at their root, however far down the chain:
    // fixing that failure is what lets them run next time.
    const std::string cause = settled.status == Status::failed
                                  ? "skipped: depends on \"" + report.description + "\", which failed"
                                  : report.error;
    for (std::size_t dependent : m_dependents[index]) {
      if (!m_settled[dependent]) {
        settle_unattempted(dependent, Status::skipped, cause);
      }
    }
  }

  // Settles an operation that never reached the homeserver, journalled with
  // attempt 0 so the journal accounts for every operation of the plan.
  void settle_unattempted(std::size_t index, Status status, const std::string& message) {
    m_records.journal(m_records.journal_entry(m_report.operations[index].description, status, 0, {}, message));
    settle({index, status, 0, message});
  }

  void tally() {
    m_report.narrowest_window = m_window.narrowest();
    for (const OperationReport& report : m_report.operations) {
      switch (report.status) {
        case Status::succeeded: ++m_report.succeeded; break;
        case Status::already_done: ++m_report.already_done; break;
        case Status::failed: ++m_report.failed; break;
        case Status::skipped: ++m_report.skipped; break;
        case Status::would_run: ++m_report.would_run; break;
      }
      if (report.attempts > 1) {
        ++m_report.retried;
        m_report.repeated_attempts += report.attempts - 1;
      }
    }
    for (const model::ResourceChange& change : m_plan.changes) {
      if (change.action == model::ResourceChange::Action::error) {
        continue;
      }
      bool complete = std::all_of(change.operations.begin(), change.operations.end(), [&](std::size_t i) {
        if (i >= m_report.operations.size()) {
          return false;
        }
        Status status = m_report.operations[i].status;
        return status == Status::succeeded || status == Status::already_done || status == Status::would_run;
      });
      if (!complete) {
        ++m_report.incomplete;
      } else if (change.action == model::ResourceChange::Action::create) {
        ++m_report.added;
      } else if (change.action == model::ResourceChange::Action::destroy) {
        ++m_report.destroyed;
      } else {
        ++m_report.changed;
      }
    }
    for (const auto& [server, unreachable] : m_unreachable) {
      m_records.warn("server " + server + " is unreachable (" + unreachable.error + "); " +
                           std::to_string(unreachable.skipped) +
                           (unreachable.skipped == 1 ? " more invite" : " more invites") +
                           " to its users skipped without a request");
    }
    m_report.warnings = m_records.take_warnings();
  }

  const model::Plan& m_plan;
  const model::MatrixState& m_desired;
  NoopPort m_noop;
  adapters::HomeserverPort& m_port;
  adapters::StateStore& m_store;
  const ExecutorOptions& m_options;
  ProgressCallback m_progress;
  const std::uint64_t m_seed;

  // One lock for everything the workers share: the walk, the records (the
  // room ids, the store, whose interface promises no thread safety, and the
  // warnings) and the report. One lock, taken once per operation, is cheaper than several.
  std::mutex m_mutex;
  std::condition_variable m_work_cv;      // ready work for an idle worker, or the end
  std::condition_variable m_finished_cv;  // the end, for the calling thread
  ApplyRecords m_records;
  std::vector<std::size_t> m_unmet;
  std::vector<std::vector<std::size_t>> m_dependents;
  std::vector<bool> m_settled;
  // Ready before the walk starts (handed to the scheduler once invalid
  // operations are settled); the scheduler holds what is ready from then on.
  std::vector<std::size_t> m_ready;
  WriteScheduler m_scheduler;
  // Attempts in flight, narrowed while the homeserver rate-limits; taken
  // without m_mutex, around each attempt only.
  ConcurrencyWindow m_window;
  std::map<std::string, Unreachable> m_unreachable;
  std::size_t m_running = 0;
  std::size_t m_idle = 0;
  bool m_finished = false;
  ApplyReport m_report;
};

std::string resources_line(const ApplyReport& report, bool dry_run) {
  if (dry_run) {
    return "Resources: " + std::to_string(report.added) + " to add, " + std::to_string(report.changed) +
           " to change, " + std::to_string(report.destroyed) + " to destroy.";
  }
  return "Resources: " + std::to_string(report.added) + " added, " + std::to_string(report.changed) + " changed, " +
         std::to_string(report.destroyed) + " destroyed.";
}

}  // namespace

const char* to_string(OperationReport::Status status) {
  switch (status) {
    case Status::succeeded: return "succeeded";
    case Status::already_done: return "already_done";
    case Status::failed: return "failed";
    case Status::skipped: return "skipped";
    case Status::would_run: return "would_run";
  }
  return "unknown";
}

std::string apply_summary(const ApplyReport& report, bool dry_run) {
  if (dry_run) {
    return "Dry run: nothing was applied. " + resources_line(report, true);
  }
  if (report.ok()) {
    return "Apply complete! " + resources_line(report, false);
  }
  std::string failures = std::to_string(report.failed) + (report.failed == 1 ? " operation" : " operations") +
                         " failed, " + std::to_string(report.skipped) + " skipped.";
  return "Apply failed: " + failures + " " + resources_line(report, false);
}

ApplyReport execute_plan(const model::Plan& plan, const model::MatrixState& desired, adapters::HomeserverPort& port,
                         adapters::StateStore& store, std::int64_t run_id, const ExecutorOptions& options,
                         std::map<std::string, std::string> known_room_ids, ProgressCallback progress) {
  Execution execution(plan, desired, port, store, run_id, options, std::move(known_room_ids), std::move(progress));
  return execution.run();
}

}  // namespace controller
