#include "controller/loop/loop_telemetry.h"

#include "model/plan.h"

namespace controller {

namespace {

using telemetry::Labels;

// A pass failed when it could not observe, was not carried out, lost its
// lock or left operations failed or skipped. Plan errors (changes that
// cannot be made as desired) and held-back changes are the desired state's
// problems, counted apart: a retry cannot fix them.
std::optional<std::string> pass_failure(const PassOutcome& outcome) {
  if (outcome.error) {
    return "the last pass failed: " + outcome.error->message;
  }
  if (!outcome.applied) {
    return "the last pass was not carried out";
  }
  if (outcome.applied->error) {
    return "the last pass was not carried out: " + outcome.applied->error->message;
  }
  if (outcome.applied->lock_lost) {
    return "this process lost the pass lock";
  }
  if (outcome.applied->report && !outcome.applied->report->ok()) {
    return "operations of the last pass failed";
  }
  return std::nullopt;
}

const char* object_of(const std::string& address) {
  return address.rfind("account.", 0) == 0 ? "account" : "room";
}

const char* action_name(model::ResourceChange::Action action) {
  switch (action) {
    case model::ResourceChange::Action::create: return "create";
    case model::ResourceChange::Action::update: return "update";
    case model::ResourceChange::Action::archive: return "archive";
    case model::ResourceChange::Action::restore: return "restore";
    case model::ResourceChange::Action::suspend: return "suspend";
    case model::ResourceChange::Action::destroy: return "destroy";
    case model::ResourceChange::Action::error: return "error";
  }
  return "unknown";
}

}  // namespace

LoopTelemetry::LoopTelemetry(std::chrono::milliseconds stale_after, bool has_feed)
    : m_stale_after(stale_after), m_has_feed(has_feed) {
  m_registry.declare_counter("mxctl_passes_total", "Passes run, by why they ran and how they ended.");
  m_registry.declare_counter("mxctl_operations_total", "Operations carried out, by kind and result.");
  m_registry.declare_counter("mxctl_drift_total",
                             "Changes the passes found the homeserver needed, by object and action.");
  m_registry.declare_counter("mxctl_homeserver_requests_total",
                             "Requests sent to the homeserver, by method and status class (none: no answer).");
  m_registry.declare_counter("mxctl_homeserver_retries_total", "Requests repeated after a transient failure.");
  m_registry.declare_counter("mxctl_guard_blocks_total",
                             "Passes whose destructive changes the mass-change guard held back.");
  m_registry.declare_counter("mxctl_desired_state_rejections_total",
                             "Times the desired state's sources did not load (the last good state was kept).");
  m_registry.declare_counter("mxctl_change_feed_failures_total", "Waits for homeserver changes that failed.");
  m_registry.declare_histogram("mxctl_pass_duration_seconds", "Wall time of a pass.",
                               {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300});
  m_registry.declare_gauge("mxctl_leader",
                           "1 while this process holds the pass lock and runs passes; 0 while it stands by.");
  m_registry.declare_gauge("mxctl_last_successful_pass_timestamp_seconds",
                           "When the last pass that succeeded ended (Unix time).");
  m_registry.declare_gauge("mxctl_managed_objects",
                           "Objects under management in the last pass (archived ones included), by kind.");
  m_registry.declare_gauge("mxctl_archived_rooms_pending_deletion",
                           "Archived rooms waiting for their grace period to end.");
}

void LoopTelemetry::pass_finished(const PassRequest& request, const PassOutcome& outcome,
                                  std::chrono::milliseconds took, std::size_t archived_pending) {
  const std::optional<std::string> failure = pass_failure(outcome);
  m_registry.add("mxctl_passes_total", {{"reason", to_string(request.reason)}, {"result", failure ? "failed" : "succeeded"}});
  m_registry.observe("mxctl_pass_duration_seconds", {}, static_cast<double>(took.count()) / 1000.0);
  if (outcome.planned) {
    const PlannedPass& planned = outcome.planned->planned;
    for (const model::ResourceChange& change : planned.plan.changes) {
      m_registry.add("mxctl_drift_total", {{"object", object_of(change.address)}, {"action", action_name(change.action)}});
    }
    if (outcome.planned->guard.held_back > 0) {
      m_registry.add("mxctl_guard_blocks_total");
    }
    m_registry.set("mxctl_managed_objects", {{"kind", "room"}}, static_cast<double>(planned.desired.rooms.size()));
    m_registry.set("mxctl_managed_objects", {{"kind", "account"}}, static_cast<double>(planned.desired.accounts.size()));
    m_registry.set("mxctl_archived_rooms_pending_deletion", {}, static_cast<double>(archived_pending));
    if (outcome.applied && outcome.applied->report) {
      for (const OperationReport& report : outcome.applied->report->operations) {
        if (report.index < planned.plan.operations.size()) {
          m_registry.add("mxctl_operations_total", {{"kind", model::to_string(planned.plan.operations[report.index].kind)},
                                                    {"result", to_string(report.status)}});
        }
      }
      m_registry.add("mxctl_homeserver_retries_total", {},
                     static_cast<double>(outcome.applied->report->repeated_attempts));
    }
  }
  std::lock_guard<std::mutex> lock(m_mutex);
  m_last_failure = failure;
  if (!failure) {
    m_last_success = std::chrono::steady_clock::now();
    m_registry.set("mxctl_last_successful_pass_timestamp_seconds", {},
                   static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count()) /
                       1000.0);
  }
}

void LoopTelemetry::desired_rejected() { m_registry.add("mxctl_desired_state_rejections_total"); }

void LoopTelemetry::feed_answered() {
  std::lock_guard<std::mutex> lock(m_mutex);
  m_feed_failing = false;
}

void LoopTelemetry::feed_failed() {
  m_registry.add("mxctl_change_feed_failures_total");
  std::lock_guard<std::mutex> lock(m_mutex);
  m_feed_failing = true;
}

void LoopTelemetry::count_requests(const std::string& client, const adapters::ClientStats& stats) {
  std::lock_guard<std::mutex> lock(m_mutex);
  adapters::ClientStats& counted = m_counted[client];
  for (const auto& [key, count] : stats.by_status) {
    const std::uint64_t before = counted.by_status[key];
    if (count > before) {
      m_registry.add("mxctl_homeserver_requests_total", {{"method", key.first}, {"status_class", key.second}},
                     static_cast<double>(count - before));
    }
  }
  if (stats.retries > counted.retries) {
    m_registry.add("mxctl_homeserver_retries_total", {}, static_cast<double>(stats.retries - counted.retries));
  }
  counted = stats;
}

void LoopTelemetry::set_leader(bool leader) {
  std::lock_guard<std::mutex> lock(m_mutex);
  m_standby = !leader;
  m_registry.set("mxctl_leader", {}, leader ? 1 : 0);
}

std::optional<std::string> LoopTelemetry::not_ready() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  if (m_standby) {
    return std::string("standby: another replica holds the pass lock");
  }
  if (m_last_failure) {
    return m_last_failure;
  }
  if (!m_last_success) {
    return std::string("no pass has finished yet");
  }
  if (std::chrono::steady_clock::now() - *m_last_success > m_stale_after) {
    return std::string("no pass has succeeded recently");
  }
  if (m_has_feed && m_feed_failing) {
    return std::string("the homeserver does not answer");
  }
  return std::nullopt;
}

}  // namespace controller
