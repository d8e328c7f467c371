#pragma once
// The long-running controller: a pass at start, then one whenever the
// homeserver shows a managed room moving (the change feed), the desired
// state's sources change (a manifest written, the app database polled), a
// resync is due, or a failed pass is to be tried again. It keeps the last
// desired state that loaded: a source that stops validating is reported
// and never read as "empty". Stopping lets the pass in flight finish its
// operations in flight, for a bounded time.
//
// The loop owns no homeserver, store or lock: LoopHost wires and runs the
// passes and reports, so that a test can drive the loop in-process.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>

#include "adapters/change_feed.h"
#include "controller/loop/feed_watcher.h"
#include "controller/loop/loop_events.h"
#include "controller/reconciler.h"
#include "model/matrix_state.h"
#include "model/result.h"

namespace controller {

/// Why the loop runs a pass.
enum class PassReason { start, homeserver_changed, desired_changed, resync, retry };

/// "start", "homeserver_changed", ... (logs and metrics).
const char* to_string(PassReason reason);

/// One pass the loop asks for.
struct PassRequest {
  PassReason reason = PassReason::start;
  /// Read every room afresh (start and resync) instead of only what
  /// changed since the stored sync token.
  bool full_observation = false;
  /// Rooms the change feed named (homeserver_changed), for the record.
  std::set<std::string> rooms;
  /// Set once the loop is stopping: no operation starts after it.
  const std::atomic<bool>* stopping = nullptr;
};

/// What the loop runs its passes through and reports to. Called from the
/// loop's thread, except where said.
class LoopHost {
 public:
  virtual ~LoopHost() = default;
  /// Reads the sources and compiles them. An error (what is wrong, naming
  /// the file and line) keeps the loop on its last good desired state.
  virtual model::Result<model::MatrixState> load_desired() = 0;
  /// A cheap token of the polled sources (the app database), taken before
  /// a load: while it stays the same, a periodic poll skips the load.
  /// Empty: no such token, every poll loads.
  virtual std::string source_fingerprint() { return {}; }
  /// SIGHUP: reads the config again; an error keeps the one in use.
  virtual model::Result<void> reload_settings() = 0;
  /// Runs one pass to the end.
  virtual PassOutcome run_pass(model::MatrixState desired, const PassRequest& request) = 0;
  /// The sync token the store holds now (after a pass); empty when none.
  virtual std::string sync_position() = 0;
  /// From the grace timer's thread: ends every homeserver request in flight.
  virtual void cancel_requests() = 0;
  /// Another process took the pass lock over (this one was silent longer
  /// than the lease): the loop must write no more.
  virtual bool lock_lost() { return false; }

  /// Reports; by default nothing. pass_finished gets the pass's wall time.
  virtual void pass_started(const PassRequest&) {}
  virtual void pass_finished(const PassRequest&, const PassOutcome&, std::chrono::milliseconds) {}
  /// The sources changed and the new desired state differs (or not).
  virtual void desired_loaded(bool changed) { (void)changed; }
  /// The sources no longer load; the loop keeps the last good state.
  virtual void desired_rejected(const model::Error&) {}
  virtual void reload_failed(const model::Error&) {}
  /// From the feed's thread: a wait failed, or answered.
  virtual void feed_failed(const model::Error&) {}
  virtual void feed_answered() {}
  /// From request_stop()'s thread: the loop stops taking work.
  virtual void stopping() {}
  /// The grace period ran out with a pass still in flight.
  virtual void grace_expired() {}
};

/// How often and how long.
struct LoopOptions {
  /// A pass reading every room afresh, to catch what /sync cannot show.
  std::chrono::milliseconds resync_interval{std::chrono::hours(1)};
  /// How often the sources are read for changes nothing announces (the app
  /// database), unless their fingerprint shows none; zero: never. Start,
  /// SIGHUP, announced changes and each resync always read them.
  std::chrono::milliseconds source_interval{std::chrono::seconds(60)};
  /// Quiet time after a source change before it is read (bursts of edits).
  std::chrono::milliseconds debounce{std::chrono::milliseconds(300)};
  /// How long a stop waits for the pass in flight before cutting its
  /// requests off.
  std::chrono::milliseconds shutdown_grace{std::chrono::seconds(30)};
  /// Backoff between a failed pass and the next try.
  std::chrono::milliseconds retry_min{std::chrono::seconds(1)};
  std::chrono::milliseconds retry_max{std::chrono::seconds(60)};
  FeedWatchOptions feed;
};

/// The control loop.
class ControlLoop {
 public:
  /// `feed` null: no change feed (an appservice bot may not /sync), so
  /// repairs wait for the resync.
  ControlLoop(LoopHost& host, adapters::ChangeFeed* feed, LoopOptions options);

  /// Where other threads post news (manifest changes, SIGHUP).
  LoopEvents& events() { return m_events; }

  /// Thread-safe, also before run(): stop taking work, let the pass in
  /// flight finish (bounded by shutdown_grace), then return from run().
  /// Asked again, cuts the pass's requests off at once.
  void request_stop();

  /// Runs until stopped. Returns 0 then; 1 when the desired state could
  /// not be loaded at start (nothing to keep the homeserver in line with;
  /// desired_rejected() has said why) or the pass lock was lost (ended at
  /// once: another process writes now).
  int run();

 private:
  void run_grace_timer();
  void pass(PassReason reason, bool full, std::set<std::string> rooms);
  // Loads the sources, keeping what loads and `fingerprint` (taken
  // before); whether the desired state changed.
  bool load_sources(std::string fingerprint);

  LoopHost& m_host;
  adapters::ChangeFeed* m_feed;
  const LoopOptions m_options;
  LoopEvents m_events;
  std::atomic<bool> m_stopping{false};
  bool m_lock_lost = false;

  // Grace timer: pass in flight, stop requested, loop finished.
  std::mutex m_grace_mutex;
  std::condition_variable m_grace_changed;
  bool m_pass_running = false;
  bool m_finished = false;

  model::MatrixState m_desired;
  std::string m_desired_digest;
  /// The sources' fingerprint before the last load that succeeded; empty
  /// after one that failed, so the next poll loads.
  std::string m_loaded_fingerprint;
  std::chrono::milliseconds m_retry_backoff{0};
  /// When a failed pass is tried again; time_point::max(): not at all.
  std::chrono::steady_clock::time_point m_retry_at = std::chrono::steady_clock::time_point::max();
  std::chrono::steady_clock::time_point m_next_resync;
  std::optional<FeedWatcher> m_watcher;
};

}  // namespace controller
