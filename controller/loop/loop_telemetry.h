#pragma once
// What `mxctl run` shows from outside: its metrics (Prometheus text on
// /metrics) and whether it is ready (/readyz), kept up to date as passes
// finish and the change feed answers. Thread-safe: the loop, the feed's
// thread and the status server's thread all call in.

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "adapters/homeserver/matrix_client.h"
#include "controller/loop/control_loop.h"
#include "controller/telemetry/metrics_registry.h"

namespace controller {

/// The loop's metrics and readiness.
class LoopTelemetry {
 public:
  /// Ready means: the last pass succeeded, no longer ago than
  /// `stale_after`, and (with a change feed) the feed's last wait answered.
  LoopTelemetry(std::chrono::milliseconds stale_after, bool has_feed);

  /// A pass ended: counts it, its operations and the drift it found, its
  /// duration, and the managed objects and archived rooms it saw
  /// (`archived_pending`: archived rooms waiting for deletion).
  void pass_finished(const PassRequest& request, const PassOutcome& outcome, std::chrono::milliseconds took,
                     std::size_t archived_pending);
  /// The sources did not load; the loop kept the last good state.
  void desired_rejected();
  void feed_answered();
  void feed_failed();
  /// What `stats` (cumulative, of the client named `client`) counted since
  /// the last call for that client: requests by method and status class,
  /// and retries.
  void count_requests(const std::string& client, const adapters::ClientStats& stats);

  /// This process leads (holds the pass lock) or stands by: mxctl_leader,
  /// and a standby is not ready (what /readyz routes to is the leader).
  void set_leader(bool leader);

  /// /metrics.
  std::string metrics() const { return m_registry.render(); }
  /// /readyz: nothing when ready, else why not.
  std::optional<std::string> not_ready() const;

 private:
  telemetry::MetricsRegistry m_registry;
  const std::chrono::milliseconds m_stale_after;
  const bool m_has_feed;
  mutable std::mutex m_mutex;
  std::optional<std::chrono::steady_clock::time_point> m_last_success;
  std::optional<std::string> m_last_failure;
  bool m_feed_failing = false;
  bool m_standby = false;
  std::map<std::string, adapters::ClientStats> m_counted;
};

}  // namespace controller
