#include "controller/executor.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "adapters/homeserver_port.h"
#include "controller/apply_recorder.h"
#include "controller/operation_attempts.h"
#include "controller/write_scheduler.h"
#include "controller/write_targets.h"
#include "model/matrix_state.h"
#include "model/plan.h"

namespace controller {

namespace {

using Status = OperationReport::Status;

// One execute_plan call. Each worker thread takes the lowest ready
// operation the scheduler lets start (none writing to a room another one is
// writing to), performs it, and settles it itself: records it, releases or
// skips what depends on it, and goes on with the next ready operation. An
// operation thus costs no hand-off between threads; a worker wakes another
// only when it releases more work than it takes itself. The calling thread
// waits for the end, meanwhile has the recorder commit what comes due, and
// starts workers as the concurrency window opens.
class Execution {
 public:
  Execution(const model::Plan& plan, const model::MatrixState& desired, adapters::HomeserverPort& port,
            ApplyRecorder& recorder, const ExecutorOptions& options, ProgressCallback progress)
      : m_plan(plan),
        m_desired(desired),
        m_recorder(recorder),
        m_options(options),
        m_progress(std::move(progress)),
        m_attempts(port, recorder, options),
        m_unmet(plan.operations.size(), 0),
        m_dependents(plan.operations.size()),
        m_settled(plan.operations.size(), false),
        m_scheduler(plan.operations.size()) {
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
      m_scheduler.set_claims(i, exclusive_targets(m_plan.operations[i]), invited_server(m_plan.operations[i]));
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
    m_recorder.begin(m_plan);
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
    m_recorder.finish();
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

  // A server an invite could not reach, and the invites to it skipped since.
  struct Unreachable {
    std::string error;
    int skipped = 0;
  };

  // Starts workers as the window opens and waits until they have run out of
  // work. A worker beyond the window would only wait in it, holding the
  // operation it took, and waking it for each freed slot costs CPU that a
  // co-located homeserver needs.
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
    m_most_workers = std::min(limit, m_plan.operations.size());
    std::vector<std::thread> workers;
    workers.reserve(m_most_workers);
    std::unique_lock<std::mutex> lock(m_mutex);
    start_workers(workers, wanted_workers());
    if (workers.empty()) {
      lock.unlock();
      work();
      return;
    }
    // Grouped store writes are committed at the next write once due; while
    // every worker waits on the homeserver (a long retry wait) nothing is
    // written, so this thread commits at that interval, which keeps the
    // store's bound on what a killed process can lose.
    const auto interval = commit_interval();
    for (;;) {
      const bool woken = m_finished_cv.wait_for(lock, interval, [this, &workers] {
        return m_finished || (!m_cannot_start && wanted_workers() > workers.size());
      });
      if (m_finished) {
        break;
      }
      if (woken) {
        start_workers(workers, wanted_workers());
      } else {
        m_recorder.commit_due();
      }
    }
    lock.unlock();
    for (std::thread& worker : workers) {
      worker.join();
    }
  }

  // With the lock held: as many workers as the window lets run, within the
  // most this walk may have.
  std::size_t wanted_workers() const {
    return std::min(m_most_workers, static_cast<std::size_t>(std::max(1, m_attempts.window_size())));
  }

  // With the lock held: starts workers until there are `wanted`. A thread
  // the system refuses only means less concurrency, so no more are tried.
  void start_workers(std::vector<std::thread>& workers, std::size_t wanted) {
    try {
      while (workers.size() < wanted) {
        workers.emplace_back([this] { work(); });
      }
    } catch (const std::system_error& e) {
      m_cannot_start = true;
      m_warnings.push_back(std::string("started ") + std::to_string(workers.size()) + " of " +
                           std::to_string(wanted) + " workers: " + e.what());
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
      if (skip_unreachable(index) || skip_late(index) || skip_unfenced(index)) {
        wake_idle();
        continue;
      }
      ++m_running;
      adapters::ExecutionContext context;
      context.desired = &m_desired;
      context.room_ids = m_recorder.ids_for(m_plan.operations[index]);
      lock.unlock();
      Attempted attempted = m_attempts.perform(index, m_plan.operations[index], m_report.operations[index].description,
                                               context, [this](const adapters::JournalEntry& entry) {
                                                 std::lock_guard<std::mutex> guard(m_mutex);
                                                 m_recorder.journal(entry);
                                               });
      lock.lock();
      --m_running;
      m_scheduler.release(index);
      learn_server(index, attempted);
      m_recorder.journal(attempted.last_attempt);
      if (attempted.outcome) {
        m_recorder.remember(m_plan.operations[index], *attempted.outcome);
      }
      settle({index, attempted.status, attempted.attempts, std::move(attempted.error)});
      wake_idle();
      if (m_attempts.window_size() > m_last_window) {
        // The window opened: the calling thread starts the workers for it.
        m_last_window = m_attempts.window_size();
        m_finished_cv.notify_one();
      }
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
  void learn_server(std::size_t index, const Attempted& attempted) {
    const std::string server = invited_server(m_plan.operations[index]);
    if (server.empty()) {
      return;
    }
    if (attempted.status == Status::succeeded) {
      m_scheduler.open(server);
    } else if (attempted.unreachable) {
      m_unreachable.emplace(server, Unreachable{attempted.error, 0});
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

  // With the lock held: settles an operation taken after the pass deadline,
  // or once mxctl is stopping, without a request; false otherwise.
  bool skip_late(std::size_t index) {
    if (m_options.stopping && m_options.stopping->load()) {
      settle_unattempted(index, Status::skipped, "skipped: mxctl is stopping");
      m_scheduler.release(index);
      return true;
    }
    if (!m_options.deadline || std::chrono::steady_clock::now() < *m_options.deadline) {
      return false;
    }
    settle_unattempted(index, Status::skipped,
                       "skipped: the pass deadline (passTimeoutMinutes) passed before it could start");
    m_scheduler.release(index);
    return true;
  }

  // With the lock held: true (the operation skipped) once the fence said
  // this process may no longer write, which it is asked before each start.
  bool skip_unfenced(std::size_t index) {
    if (!m_options.fence) {
      return false;
    }
    if (!m_fenced_out && !m_options.fence()) {
      m_fenced_out = true;
      m_warnings.push_back("stopped writing: this process no longer holds the pass lock");
    }
    if (!m_fenced_out) {
      return false;
    }
    settle_unattempted(index, Status::skipped, "skipped: this process no longer holds the pass lock");
    m_scheduler.release(index);
    return true;
  }

  // Records the outcome, tells the caller, and releases or skips the
  // operations waiting on it.
  void settle(Settled settled) {
    const std::size_t index = settled.index;
    if (m_settled[index]) {
      return;
    }
    m_settled[index] = true;
    m_recorder.audit(m_plan.operations[index], settled.status, settled.error);
    OperationReport& report = m_report.operations[index];
    report.status = settled.status;
    report.attempts = settled.attempts;
    report.error = std::move(settled.error);
    if (const model::Operation& operation = m_plan.operations[index]; !operation.room_key.empty()) {
      const auto ids = m_recorder.ids_for(operation);
      if (auto id = ids.find(operation.room_key); id != ids.end()) {
        report.room_id = id->second;
      }
    }
    if (m_progress) {
      // An exception escaping a worker thread would end the process.
      try {
        m_progress(report);
      } catch (const std::exception& e) {
        m_warnings.push_back(std::string("progress report failed: ") + e.what());
      }
    }
    if (lets_dependents_run(settled.status)) {
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
    m_recorder.journal(m_recorder.journal_entry(m_report.operations[index].description, status, 0, {}, message));
    settle({index, status, 0, message});
  }

  // Totals and warnings, once every operation has settled: the recorder's
  // warnings, then the walk's, which end with the unreachable servers.
  void tally() {
    m_report.narrowest_window = m_attempts.narrowest_window();
    m_report.widest_window = m_attempts.widest_window();
    count_outcomes(m_report, m_plan);
    for (const auto& [server, unreachable] : m_unreachable) {
      m_warnings.push_back("server " + server + " is unreachable (" + unreachable.error + "); " +
                           std::to_string(unreachable.skipped) +
                           (unreachable.skipped == 1 ? " more invite" : " more invites") +
                           " to its users skipped without a request");
    }
    m_report.warnings = m_recorder.take_warnings();
    m_report.warnings.insert(m_report.warnings.end(), std::make_move_iterator(m_warnings.begin()),
                             std::make_move_iterator(m_warnings.end()));
  }

  const model::Plan& m_plan;
  const model::MatrixState& m_desired;
  ApplyRecorder& m_recorder;
  const ExecutorOptions& m_options;
  ProgressCallback m_progress;
  // Thread-safe: workers use it without m_mutex.
  OperationAttempts m_attempts;

  // One lock for everything the workers share: the walk, the recorder
  // (which promises no thread safety), the warnings and the report. One
  // lock, taken once per operation, is cheaper than several.
  std::mutex m_mutex;
  std::condition_variable m_work_cv;      // ready work for an idle worker, or the end
  std::condition_variable m_finished_cv;  // the end, for the calling thread
  std::vector<std::size_t> m_unmet;
  std::vector<std::vector<std::size_t>> m_dependents;
  std::vector<bool> m_settled;
  // Ready before the walk starts (handed to the scheduler once invalid
  // operations are settled); the scheduler holds what is ready from then on.
  std::vector<std::size_t> m_ready;
  WriteScheduler m_scheduler;
  std::map<std::string, Unreachable> m_unreachable;
  std::size_t m_running = 0;
  std::size_t m_idle = 0;
  bool m_finished = false;
  std::size_t m_most_workers = 1;  // workers this walk may have at most
  int m_last_window = 0;           // the window's size when workers were last asked for
  bool m_cannot_start = false;     // the system refused a thread: no more are tried
  bool m_fenced_out = false;       // the fence said no: nothing starts again
  // The walk's own warnings; the recorder keeps its own.
  std::vector<std::string> m_warnings;
  ApplyReport m_report;
};

}  // namespace

ApplyReport execute_plan(const model::Plan& plan, const model::MatrixState& desired, adapters::HomeserverPort& port,
                         ApplyRecorder& recorder, const ExecutorOptions& options, ProgressCallback progress) {
  Execution execution(plan, desired, port, recorder, options, std::move(progress));
  return execution.run();
}

}  // namespace controller
