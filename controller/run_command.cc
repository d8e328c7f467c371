// `mxctl run`: wires the long-running controller (signals first, so every
// thread started later has them blocked; then the host, the manifest watch
// and the loop) and runs it until a signal stops it.

#include "controller/run_command.h"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "adapters/appdb/postgres_notifications.h"
#include "adapters/manifests/manifest_watch.h"
#include "adapters/redact.h"
#include "controller/loop/control_loop.h"
#include "controller/loop/run_host.h"
#include "controller/loop/loop_telemetry.h"
#include "controller/loop/signal_listener.h"
#include "controller/telemetry/listen_address.h"
#include "controller/telemetry/status_server.h"

namespace controller {

namespace {

// Signals may come before the loop exists (during wiring); they wait here.
class SignalRelay {
 public:
  void stop() {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_loop) {
      m_loop->request_stop();
    } else {
      m_stop = true;
      m_stopped.notify_all();
    }
  }
  void reload() {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_loop) {
      m_loop->events().post_reload();
    }
  }
  void attach(ControlLoop* loop) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_loop = loop;
    if (m_loop && m_stop) {
      m_loop->request_stop();
    }
  }
  bool stopped() {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_stop;
  }
  /// Waits up to `limit` for a stop (a standby between its attempts); true
  /// when one came.
  bool wait_for_stop(std::chrono::milliseconds limit) {
    std::unique_lock<std::mutex> lock(m_mutex);
    return m_stopped.wait_for(lock, limit, [this] { return m_stop; });
  }

 private:
  std::condition_variable m_stopped;
  std::mutex m_mutex;
  ControlLoop* m_loop = nullptr;
  bool m_stop = false;
};

// How often a standby tries the pass lock: a leader's end is noticed
// within this (the lock goes with its database session).
constexpr std::chrono::milliseconds k_standby_poll{1000};

// Takes the pass lock, standing by while another replica holds it (a
// shared PostgreSQL store) until it can, or until a signal stops the wait.
// False when the process should end: an error (logged), or a stop.
bool lead(RunHost& host, LoopTelemetry& metrics, SignalRelay& relay, LoopLog& log, bool& stopped) {
  bool standing_by = false;
  bool store_failing = false;
  for (;;) {
    LockAttempt attempt = host.take_lock();
    if (attempt.outcome == LockAttempt::taken) {
      log.info(standing_by ? "leading: took the pass lock; the replica that held it is gone"
                           : "leading: holding the pass lock");
      metrics.set_leader(true);
      return true;
    }
    const bool wait = host.replicated() && (attempt.outcome == LockAttempt::held_elsewhere ||
                                            attempt.error.kind == model::Error::Kind::transient);
    if (!wait) {
      log.error(adapters::redact(attempt.error.message, {}));
      return false;
    }
    if (attempt.outcome == LockAttempt::held_elsewhere && !standing_by) {
      log.info("standing by: " + adapters::redact(attempt.error.message, {}));
      standing_by = true;
      metrics.set_leader(false);
    } else if (attempt.outcome == LockAttempt::failed && !store_failing) {
      log.warning("standing by: cannot ask the state store for the pass lock: " +
                  adapters::redact(attempt.error.message, {}));
    }
    store_failing = attempt.outcome == LockAttempt::failed;
    if (store_failing) {
      // A session that ended stays ended: the next attempt needs a new one.
      (void)host.reopen_store();
    }
    if (relay.wait_for_stop(k_standby_poll)) {
      stopped = true;
      return false;
    }
  }
}

}  // namespace

int run_controller(const RunOptions& options, Console& console) {
  LoopLog log(console.err, options.log_format);
  SignalRelay relay;
  SignalListener signals([&] { relay.stop(); }, [&] { relay.reload(); });
  std::unique_ptr<RunHost> host = RunHost::wire(options, log);
  if (!host) {
    return k_exit_error;
  }
  const LoopOptions loop_options = host->loop_options();
  auto address = telemetry::parse_listen_address(host->listen_address());
  if (!address) {
    log.error("listen: " + address.error().message);
    return k_exit_error;
  }
  // Ready only while passes succeed: a quiet controller still resyncs once
  // per resync interval.
  LoopTelemetry metrics(2 * loop_options.resync_interval + std::chrono::minutes(1), host->feed() != nullptr);
  host->set_telemetry(&metrics);
  telemetry::StatusServerOptions status;
  status.address = *address;
  status.sources.metrics = [&metrics] { return metrics.metrics(); };
  status.sources.readiness = [&metrics] { return metrics.not_ready(); };
  telemetry::StatusServer server(status);
  if (auto started = server.start(); !started) {
    log.error(started.error().message);
    return k_exit_error;
  }
  log.info("serving /metrics, /healthz and /readyz on http://" +
           telemetry::to_string(telemetry::ListenAddress{address->ip, server.port()}));
  metrics.set_leader(false);
  bool stopped = false;
  if (!lead(*host, metrics, relay, log, stopped)) {
    server.stop();
    log.info(stopped ? "stopped" : "stopped with an error");
    return stopped ? k_exit_ok : k_exit_error;
  }
  // Before the first pass: its alias lookups may make the homeserver ask.
  if (auto serving = host->start_serving(); !serving) {
    log.error(serving.error().message);
    return k_exit_error;
  }
  ControlLoop loop(*host, host->feed(), loop_options);
  std::unique_ptr<adapters::ManifestWatch> watch;
  if (!options.paths.empty()) {
    auto started = adapters::ManifestWatch::start(options.paths, [&loop] { loop.events().post_source_changed(); });
    if (!started) {
      log.error(started.error().message);
      return k_exit_error;
    }
    watch = std::move(*started);
  }
  std::unique_ptr<adapters::PostgresNotifications> notifications;
  if (auto [database, channel] = host->notify_source(); !channel.empty()) {
    auto listening = adapters::PostgresNotifications::start(database, channel,
                                                            [&loop] { loop.events().post_source_changed(); });
    if (!listening) {
      log.error(listening.error().message);
      return k_exit_error;
    }
    notifications = std::move(*listening);
    log.info("listening on the database's channel " + channel + " for changes");
  }
  relay.attach(&loop);
  log.info("mxctl run: keeping the homeserver in line with the desired state");
  const int result = loop.run();
  relay.attach(nullptr);
  host->stop_serving();
  watch.reset();
  notifications.reset();
  server.stop();
  if (result != 0) {
    metrics.set_leader(false);
    log.error("lost the pass lock: stopping, so that a replica holding it carries on (a supervisor restarts this "
              "one as a standby)");
  }
  log.info(result == 0 ? "stopped" : "stopped with an error");
  return result == 0 ? k_exit_ok : k_exit_error;
}

}  // namespace controller
