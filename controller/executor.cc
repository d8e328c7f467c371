#include "controller/executor.h"

#include <algorithm>
#include <cctype>
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

// The first "M_..." word of a message, which is how the HTTP adapter passes
// the homeserver's errcode along ("PUT /x: HTTP 403 M_FORBIDDEN: ...").
std::string errcode_of(const std::string& message) {
  for (std::size_t at = message.find("M_"); at != std::string::npos; at = message.find("M_", at + 1)) {
    if (at > 0 && (std::isalnum(static_cast<unsigned char>(message[at - 1])) || message[at - 1] == '_')) {
      continue;
    }
    std::size_t end = at + 2;
    while (end < message.size() && (std::isupper(static_cast<unsigned char>(message[end])) || message[end] == '_')) {
      ++end;
    }
    if (end > at + 2) {
      return message.substr(at, end - at);
    }
  }
  return {};
}

// "create_room", "set_state m.room.power_levels", "delete_room", ...
std::string action_name(const model::Operation& operation) {
  using Kind = model::Operation::Kind;
  switch (operation.kind) {
    case Kind::create_account: return "create_account";
    case Kind::update_account: return "update_account";
    case Kind::create_room: return "create_room";
    case Kind::set_state: return std::string("set_state ") + model::event_type(operation.field);
    case Kind::invite: return "invite";
    case Kind::kick: return "kick";
    case Kind::send_message: return "send_message";
    case Kind::set_direct: return "set_direct";
    case Kind::delete_room: return "delete_room";
    case Kind::suspend_account: return "suspend_account";
    case Kind::reactivate_account: return "reactivate_account";
  }
  return "unknown";
}

const char* journal_result(Status status) {
  switch (status) {
    case Status::succeeded: return "ok";
    case Status::already_done: return "already_done";
    case Status::failed: return "failed";
    case Status::skipped: return "skipped";
    case Status::would_run: return "would_run";
  }
  return "failed";
}

// One execute_plan call. Each worker thread takes the lowest ready
// operation, performs it, and settles it itself: journals and audits it,
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
        m_run_id(run_id),
        m_options(options),
        m_progress(std::move(progress)),
        m_seed(options.jitter_seed ? *options.jitter_seed : std::random_device{}()),
        m_room_ids(std::move(known_room_ids)),
        m_unmet(plan.operations.size(), 0),
        m_dependents(plan.operations.size()),
        m_settled(plan.operations.size(), false) {
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
        m_ready.insert(i);
      }
    }
    if (!m_options.dry_run) {
      // A journal and an audit row per operation, each its own transaction,
      // cost more than the operation's own request against a fast server.
      if (auto grouped = m_store.set_group_commit(adapters::GroupCommit{}); !grouped) {
        m_warnings.push_back("could not group the journal's writes: " + grouped.error().message);
      }
      journal_creations();
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
        m_warnings.push_back("could not commit the journal and audit log: " + ended.error().message);
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
  };

  // Journals each room this apply sets out to create ("planned", attempt 0)
  // and commits that before any createRoom is sent, in one commit for all:
  // Synapse registers a new room's alias before its marker is readable, and
  // a pass that finds such a room after this one was killed knows from
  // these entries that the room may be its own.
  void journal_creations() {
    std::lock_guard<std::mutex> lock(m_mutex);
    bool any = false;
    for (std::size_t i = 0; i < m_plan.operations.size(); ++i) {
      if (m_plan.operations[i].kind == model::Operation::Kind::create_room) {
        adapters::JournalEntry entry = journal_entry(i, Status::would_run, 0, {}, {});
        entry.result = "planned";
        journal(entry);
        any = true;
      }
    }
    if (any) {
      if (auto flushed = m_store.flush(); !flushed) {
        m_warnings.push_back("could not commit the journal and audit log: " + flushed.error().message);
      }
    }
  }

  // Starts the workers and waits until they have run out of work.
  void run_workers() {
    if (m_ready.empty()) {
      return;
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
      m_warnings.push_back(std::string("started ") + std::to_string(workers.size()) + " of " +
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
            m_warnings.push_back("could not commit the journal and audit log: " + flushed.error().message);
          }
        }
      }
    }
    for (std::thread& worker : workers) {
      worker.join();
    }
  }

  // One worker: takes the lowest ready operation, performs it without the
  // lock, settles it with the lock, until nothing is ready or running.
  void work() {
    std::unique_lock<std::mutex> lock(m_mutex);
    for (;;) {
      while (m_ready.empty() && m_running > 0) {
        ++m_idle;
        m_work_cv.wait(lock);
        --m_idle;
      }
      if (m_ready.empty()) {
        // Nothing runs that could release more: this pass's walk is over.
        m_finished = true;
        m_work_cv.notify_all();
        m_finished_cv.notify_one();
        return;
      }
      const std::size_t index = *m_ready.begin();
      m_ready.erase(m_ready.begin());
      ++m_running;
      adapters::ExecutionContext context;
      context.desired = &m_desired;
      context.room_ids = ids_for(m_plan.operations[index]);
      lock.unlock();
      Performed performed = perform(index, context);
      lock.lock();
      --m_running;
      journal(performed.last_attempt);
      if (performed.outcome) {
        remember(m_plan.operations[index], *performed.outcome);
      }
      settle(std::move(performed.settled));
      // This worker takes one ready operation itself; idle ones take the rest.
      const std::size_t extra = m_ready.empty() ? 0 : m_ready.size() - 1;
      for (std::size_t n = std::min(extra, m_idle); n > 0; --n) {
        m_work_cv.notify_one();
      }
    }
  }

  // Runs without the lock: all attempts at one operation. Attempts that
  // will be repeated are journalled here; the last one is left to the caller.
  Performed perform(std::size_t index, const adapters::ExecutionContext& context) {
    const model::Operation& operation = m_plan.operations[index];
    JitterEngine rng(m_seed + index);
    for (int attempt = 1;; ++attempt) {
      model::Result<adapters::OperationOutcome> result = call_port(operation, context);
      if (result) {
        Status status = m_options.dry_run      ? Status::would_run
                        : result->already_done ? Status::already_done
                                               : Status::succeeded;
        return {{index, status, m_options.dry_run ? 0 : attempt, {}},
                journal_entry(index, status, attempt, {}, {}),
                std::move(*result)};
      }
      const model::Error& error = result.error();
      std::string message = adapters::redact(error.message, {});
      adapters::JournalEntry entry = journal_entry(index, Status::failed, attempt, errcode_of(message), message);
      std::optional<std::chrono::milliseconds> delay = retry_delay(m_options.retry, error, attempt, rng);
      if (!delay) {
        return {{index, Status::failed, attempt, std::string(model::to_string(error.kind)) + ": " + message},
                std::move(entry),
                std::nullopt};
      }
      if (!m_options.dry_run) {
        std::lock_guard<std::mutex> lock(m_mutex);
        journal(entry);
      }
      if (m_options.sleep) {
        m_options.sleep(*delay);
      } else {
        sleep_for_real(*delay);
      }
    }
  }

  // With the lock held: the room ids an operation can refer to: its room,
  // the room at the other end of a link, and its room's parent, children
  // and allowed spaces. Copying only these (not every id of the instance)
  // keeps the cost of an operation independent of the instance's size.
  std::map<std::string, std::string> ids_for(const model::Operation& operation) {
    std::vector<const std::string*> keys = {&operation.room_key, &operation.link_key};
    if (auto room = m_desired.rooms.find(operation.room_key); room != m_desired.rooms.end()) {
      if (room->second.parent) {
        keys.push_back(&room->second.parent->key);
      }
      for (const model::SpaceLink& child : room->second.children) {
        keys.push_back(&child.key);
      }
      for (const std::string& space : room->second.allow_spaces) {
        keys.push_back(&space);
      }
    }
    std::map<std::string, std::string> ids;
    for (const std::string* key : keys) {
      if (auto it = m_room_ids.find(*key); it != m_room_ids.end()) {
        ids.insert(*it);
      }
    }
    return ids;
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

  // With the lock held, as every function below: makes what a successful
  // operation produced available: room ids to later operations and the
  // store, sent messages to the store.
  void remember(const model::Operation& operation, const adapters::OperationOutcome& outcome) {
    using Kind = model::Operation::Kind;
    if (m_options.dry_run) {
      return;
    }
    if (operation.kind == Kind::create_room) {
      if (!outcome.room_id) {
        m_warnings.push_back("create room " + operation.room_key +
                             " returned no room id; operations on it cannot name it");
        return;
      }
      m_room_ids[operation.room_key] = *outcome.room_id;
      if (auto saved = m_store.set_room_id(operation.room_key, *outcome.room_id); !saved) {
        m_warnings.push_back("could not save the room id of " + operation.room_key + ": " + saved.error().message);
      }
    } else if (operation.kind == Kind::send_message) {
      if (auto saved = m_store.mark_message_sent(operation.room_key); !saved) {
        m_warnings.push_back("could not record the message sent to " + operation.room_key + ": " +
                             saved.error().message);
      }
    } else if (operation.kind == Kind::set_direct) {
      if (auto saved = m_store.mark_direct_set(operation.room_key, operation.user_id); !saved) {
        m_warnings.push_back("could not record m.direct of " + operation.user_id + " for " + operation.room_key +
                             ": " + saved.error().message);
      }
    } else {
      remember_lifecycle(operation);
    }
    remember_room_written(operation, outcome);
  }

  // A room written to is re-read in full by the next observation: on
  // Synapse a write racing another can fork the room's event graph, and
  // /sync then misses one of the two changes. Once per room per apply.
  void remember_room_written(const model::Operation& operation, const adapters::OperationOutcome& outcome) {
    using Kind = model::Operation::Kind;
    const bool writes_events = operation.kind == Kind::create_room || operation.kind == Kind::set_state ||
                               operation.kind == Kind::invite || operation.kind == Kind::kick ||
                               operation.kind == Kind::send_message;
    if (!writes_events || outcome.already_done) {
      return;
    }
    const std::string room_id = room_id_of(operation.room_key);
    if (room_id.empty() || !m_rooms_written.insert(room_id).second) {
      return;
    }
    if (auto saved = m_store.mark_room_written(room_id); !saved) {
      m_warnings.push_back("could not record the write to " + operation.room_key + ": " + saved.error().message);
    }
  }

  // The store's side of the lifecycle: archive times (kept with the room's
  // own archive event), tombstones, and which accounts mxctl manages.
  void remember_lifecycle(const model::Operation& operation) {
    using Kind = model::Operation::Kind;
    model::Result<void> saved;
    if (operation.kind == Kind::create_account) {
      auto account = m_desired.accounts.find(operation.account_key);
      if (account != m_desired.accounts.end()) {
        saved = m_store.remember_account(account->first, account->second.user_id);
      }
    } else if (operation.kind == Kind::set_state && operation.field == model::StateField::archive_record) {
      auto room = m_desired.rooms.find(operation.room_key);
      if (room != m_desired.rooms.end() && room->second.archived_at) {
        saved = m_store.record_archive(operation.room_key, room_id_of(operation.room_key), *room->second.archived_at);
      } else {
        saved = m_store.clear_archive(operation.room_key);
      }
    } else if (operation.kind == Kind::suspend_account || operation.kind == Kind::reactivate_account) {
      saved = m_store.set_account_suspended(operation.account_key, operation.kind == Kind::suspend_account);
    } else if (operation.kind == Kind::delete_room) {
      adapters::Tombstone tombstone;
      tombstone.key = operation.room_key;
      tombstone.room_id = room_id_of(operation.room_key);
      tombstone.archived_at = operation.archived_at.value_or(0);
      tombstone.deleted_at = now_ms();
      saved = m_store.record_tombstone(tombstone);
    }
    if (!saved) {
      m_warnings.push_back("could not record \"" + model::describe(operation) + "\" in the state store: " +
                           saved.error().message);
    }
  }

  std::string room_id_of(const std::string& key) {
    auto it = m_room_ids.find(key);
    return it == m_room_ids.end() ? std::string() : it->second;
  }

  std::int64_t now_ms() const {
    if (m_options.now) {
      return *m_options.now;
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  // One audit entry per operation, once it is settled (FT-17's audit trail):
  // what, on which key and id, before and after, and how it ended.
  void audit(const model::Operation& operation, Status status, const std::string& message) {
    using Kind = model::Operation::Kind;
    if (m_options.dry_run) {
      return;
    }
    adapters::AuditEntry entry;
    entry.run_id = m_run_id;
    entry.at = std::chrono::system_clock::now();
    entry.action = action_name(operation);
    const bool on_account = operation.kind == Kind::create_account || operation.kind == Kind::update_account ||
                            operation.kind == Kind::suspend_account || operation.kind == Kind::reactivate_account;
    entry.key = on_account ? operation.account_key : operation.room_key;
    entry.target = on_account ? operation.user_id : room_id_of(operation.room_key);
    if (operation.kind == Kind::invite || operation.kind == Kind::kick || operation.kind == Kind::set_direct) {
      entry.after = operation.user_id;
    } else {
      entry.before = operation.before;
      entry.after = operation.after;
    }
    entry.result = journal_result(status);
    entry.message = message;
    if (auto recorded = m_store.append_audit(entry); !recorded) {
      m_warnings.push_back("could not write \"" + model::describe(operation) + "\" to the audit log: " +
                           recorded.error().message);
    }
  }

  // Needs no lock: reads only what is fixed before the workers start.
  adapters::JournalEntry journal_entry(std::size_t index, Status status, int attempt, std::string errcode,
                                       std::string message) const {
    adapters::JournalEntry entry;
    entry.run_id = m_run_id;
    entry.operation = m_report.operations[index].description;
    entry.result = journal_result(status);
    entry.errcode = std::move(errcode);
    entry.message = std::move(message);
    entry.attempt = attempt;
    entry.at = std::chrono::system_clock::now();
    return entry;
  }

  void journal(const adapters::JournalEntry& entry) {
    if (m_options.dry_run) {
      return;
    }
    if (auto recorded = m_store.record(entry); !recorded) {
      m_warnings.push_back("could not journal \"" + entry.operation + "\": " + recorded.error().message);
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
    audit(m_plan.operations[index], settled.status, settled.error);
    OperationReport& report = m_report.operations[index];
    report.status = settled.status;
    report.attempts = settled.attempts;
    report.error = std::move(settled.error);
    if (m_progress) {
      // An exception escaping a worker thread would end the process.
      try {
        m_progress(report);
      } catch (const std::exception& e) {
        m_warnings.push_back(std::string("progress report failed: ") + e.what());
      }
    }
    const bool ok = settled.status == Status::succeeded || settled.status == Status::already_done ||
                    settled.status == Status::would_run;
    if (ok) {
      for (std::size_t dependent : m_dependents[index]) {
        if (--m_unmet[dependent] == 0 && !m_settled[dependent]) {
          m_ready.insert(dependent);
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
    journal(journal_entry(index, status, 0, {}, message));
    settle({index, status, 0, message});
  }

  void tally() {
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
    m_report.warnings = std::move(m_warnings);
  }

  const model::Plan& m_plan;
  const model::MatrixState& m_desired;
  NoopPort m_noop;
  adapters::HomeserverPort& m_port;
  adapters::StateStore& m_store;
  const std::int64_t m_run_id;
  const ExecutorOptions& m_options;
  ProgressCallback m_progress;
  const std::uint64_t m_seed;

  // One lock for everything the workers share: the walk, the room ids, the
  // store (whose interface promises no thread safety), the warnings and the
  // report. One lock, taken once per operation, is cheaper than several.
  std::mutex m_mutex;
  std::condition_variable m_work_cv;      // ready work for an idle worker, or the end
  std::condition_variable m_finished_cv;  // the end, for the calling thread
  std::map<std::string, std::string> m_room_ids;
  std::set<std::string> m_rooms_written;
  std::vector<std::string> m_warnings;
  std::vector<std::size_t> m_unmet;
  std::vector<std::vector<std::size_t>> m_dependents;
  std::vector<bool> m_settled;
  std::set<std::size_t> m_ready;
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
