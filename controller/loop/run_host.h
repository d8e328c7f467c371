#pragma once
// `mxctl run`'s LoopHost: the real parts (settings and sources, the state
// store and the pass lock held for the life of the process, the HTTP
// homeserver) wired once, a Reconciler per pass, and every report as a log
// line and, through LoopTelemetry, in the metrics.

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "adapters/appdb/app_database_changes.h"
#include "adapters/homeserver/http_homeserver.h"
#include "adapters/homeserver/sync_change_feed.h"
#include "adapters/manifests/settings_file.h"
#include "adapters/state_store.h"
#include "controller/clock.h"
#include "controller/loop/appservice_endpoint.h"
#include "controller/loop/control_loop.h"
#include "controller/loop/loop_log.h"
#include "controller/loop/loop_telemetry.h"

namespace controller {

/// What `mxctl run` was asked to keep in line, and how.
struct RunOptions {
  std::string config_path;
  std::vector<std::string> paths;
  std::string from_db;
  std::string state_path = "mxctl.db";
  int max_in_flight = 32;
  /// Where /metrics, /healthz and /readyz are served; empty: the config's
  /// `listen`.
  std::string listen;
  /// Where the application-service API is served (appservice
  /// provisioning); empty: the config's `appserviceListen`, and without
  /// that, not at all.
  std::string appservice_listen;
  LogFormat log_format = LogFormat::text;
};

/// How an attempt at the pass lock ended.
struct LockAttempt {
  enum Outcome {
    /// This process holds it now.
    taken,
    /// Another process holds it (`error` names it): a replica stands by.
    held_elsewhere,
    /// The store could not be asked (`error` says why).
    failed,
  };
  Outcome outcome = failed;
  model::Error error;
};

/// The host. Built by wire(); the loop runs on it once take_lock() took
/// the pass lock.
class RunHost final : public LoopHost {
 public:
  /// Loads the settings (an error in them, or missing connection
  /// settings, or no token: nothing), opens the store and connects
  /// (without probing: the first pass does, so a homeserver still starting
  /// is waited for). Problems are logged; null when any step fails.
  static std::unique_ptr<RunHost> wire(const RunOptions& options, LoopLog& log);

  /// Takes the pass lock for the life of the host (no cron pass and no
  /// other replica writes meanwhile); a takeover is logged as a warning.
  LockAttempt take_lock();
  /// The store is shared by replicas (PostgreSQL): a lock held elsewhere
  /// means standing by, not an error.
  bool replicated() const;
  /// Opens the store again (a standby whose database session ended: the
  /// server restarted, or an operator ended it), before it holds any lock;
  /// the error when it cannot, the old store kept.
  model::Result<void> reopen_store();

  /// The change feed: /sync, or in appservice mode the transactions the
  /// homeserver pushes to the listener; null when the appservice API is
  /// not served (the bot may not /sync).
  adapters::ChangeFeed* feed();
  /// Starts the application-service listener when there is one; `invalid`
  /// when it cannot listen. Its address goes to the log.
  model::Result<void> start_serving();
  /// Stops the application-service listener (after the loop).
  void stop_serving();
  /// The loop's timings from the settings.
  LoopOptions loop_options() const;
  /// The app database (`--from-db`) and the channel to LISTEN on, when
  /// both are set and the database is PostgreSQL; empty otherwise.
  std::pair<std::string, std::string> notify_source() const;
  /// Where to serve /metrics: `--listen`, else the config's `listen`.
  std::string listen_address() const {
    return m_options.listen.empty() ? m_settings.settings.listen : m_options.listen;
  }
  /// Where passes and the feed are counted; null: nowhere.
  void set_telemetry(LoopTelemetry* telemetry) { m_telemetry = telemetry; }

  model::Result<model::MatrixState> load_desired() override;
  /// The app database's fingerprint (`--from-db`); empty without one, or
  /// when it cannot be had. Manifests are watched, not fingerprinted.
  std::string source_fingerprint() override;
  model::Result<void> reload_settings() override;
  PassOutcome run_pass(model::MatrixState desired, const PassRequest& request) override;
  std::string sync_position() override;
  void cancel_requests() override;
  /// Asks the store (bounded) whether this process still holds the lock.
  bool lock_lost() override { return m_lock && !m_lock->still_held(); }

  void pass_started(const PassRequest& request) override;
  void pass_finished(const PassRequest& request, const PassOutcome& outcome, std::chrono::milliseconds took) override;
  void desired_loaded(bool changed) override;
  void desired_rejected(const model::Error& error) override;
  void reload_failed(const model::Error& error) override;
  void feed_failed(const model::Error& error) override;
  void feed_answered() override;
  void stopping() override;
  void grace_expired() override;

 private:
  RunHost(RunOptions options, LoopLog& log) : m_options(std::move(options)), m_log(log) {}
  /// Wires the appservice endpoint (appservice mode, an address set);
  /// false (logged) when that fails.
  bool wire_appservice(const adapters::ClientOptions& client);
  /// Tells the endpoint the managed rooms' ids the store holds now.
  void publish_room_ids();

  RunOptions m_options;
  LoopLog& m_log;
  LoopTelemetry* m_telemetry = nullptr;
  adapters::LoadedSettings m_settings;
  std::unique_ptr<adapters::StateStore> m_store;
  std::unique_ptr<adapters::StoreLock> m_lock;
  adapters::OwnWrites m_own_writes;  // before the port and feed that point to it
  std::unique_ptr<adapters::HttpHomeserver> m_homeserver;
  std::unique_ptr<adapters::SyncChangeFeed> m_feed;
  /// Appservice mode with appserviceListen: the listener and its feed.
  std::unique_ptr<AppserviceEndpoint> m_appservice;
  /// Opened at the first poll of a `--from-db` database.
  std::unique_ptr<adapters::AppDatabaseChanges> m_database_changes;
  SystemClock m_clock;
  bool m_probed = false;
  /// The feed's last wait failed; said once until one answers again.
  std::atomic<bool> m_feed_failing{false};
};

}  // namespace controller
