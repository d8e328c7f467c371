#include "controller/loop/run_host.h"

#include <sstream>
#include <utility>

#include "adapters/appdb/desired_source.h"
#include "adapters/manifests/appservice_registration.h"
#include "adapters/redact.h"
#include "controller/telemetry/listen_address.h"
#include "model/compile.h"
#include "model/printable.h"

namespace controller {

namespace {

using SteadyClock = std::chrono::steady_clock;

// How long one wait of the change feed lasts.
constexpr std::chrono::milliseconds k_feed_wait{30000};

std::string diagnostics_text(const model::Diagnostics& diagnostics) {
  std::string text;
  for (const model::Diagnostic& diagnostic : diagnostics) {
    text += (text.empty() ? "" : "; ") + diagnostic.to_string();
  }
  return text;
}

std::string error_text(const model::Error& error) { return adapters::redact(error.message, {}); }

// The managed object an operation is about, as the plan names it.
std::string object_key(const model::Operation& operation) {
  return operation.room_key.empty() ? "account." + operation.account_key : "room." + operation.room_key;
}

}  // namespace

std::unique_ptr<RunHost> RunHost::wire(const RunOptions& options, LoopLog& log) {
  std::unique_ptr<RunHost> host(new RunHost(options, log));
  adapters::Environment env = adapters::process_environment();
  host->m_settings = adapters::load_settings(options.config_path, env);
  model::Diagnostics problems = host->m_settings.diagnostics;
  model::Diagnostics missing = adapters::require_connection_settings(host->m_settings);
  problems.insert(problems.end(), missing.begin(), missing.end());
  if (options.paths.empty() && options.from_db.empty()) {
    problems.push_back({{"command line"}, "give manifest paths or --from-db URI"});
  }
  for (const model::Diagnostic& problem : problems) {
    log.error(problem.to_string());
  }
  if (!problems.empty()) {
    return nullptr;
  }
  auto token = adapters::load_access_token(host->m_settings, env);
  if (!token) {
    log.error(error_text(token.error()));
    return nullptr;
  }
  auto store = adapters::open_state_store(options.state_path, adapters::StoreAccess::read_write);
  if (!store) {
    log.error(error_text(store.error()));
    return nullptr;
  }
  host->m_store = std::move(*store);
  const model::Settings& settings = host->m_settings.settings;
  adapters::ClientOptions client = adapters::client_options(settings, SteadyClock::now());
  host->m_homeserver = std::make_unique<adapters::HttpHomeserver>(settings, *token, client);
  // Passes follow each other in this process: each starts from what the
  // last one found, not from the store's snapshots.
  host->m_homeserver->set_remember_observation(true);
  if (settings.provisioning != model::ProvisioningMode::appservice) {
    if (!options.appservice_listen.empty() || !host->m_settings.appservice_listen.empty()) {
      log.warning("appserviceListen is for provisioning: appservice; the application-service API is not served");
    }
    host->m_feed = std::make_unique<adapters::SyncChangeFeed>(settings.homeserver_url, *token, client, k_feed_wait);
    // A repair's own write, coming back through /sync, is not drift.
    host->m_homeserver->record_own_writes(&host->m_own_writes);
    host->m_feed->ignore_own_writes(&host->m_own_writes);
  } else if (!host->wire_appservice(client)) {
    return nullptr;
  }
  return host;
}

LockAttempt RunHost::take_lock() {
  auto lock = m_store->lock("run");
  if (!lock) {
    const bool elsewhere = lock.error().kind == model::Error::Kind::conflict;
    return {elsewhere ? LockAttempt::held_elsewhere : LockAttempt::failed, lock.error()};
  }
  m_lock = std::move(*lock);
  if (std::string took_over = m_lock->took_over(); !took_over.empty()) {
    m_log.warning(took_over + " (recorded in the audit log)");
  }
  return {LockAttempt::taken, {}};
}

bool RunHost::replicated() const { return adapters::is_postgres_store(m_options.state_path); }

model::Result<void> RunHost::reopen_store() {
  auto store = adapters::open_state_store(m_options.state_path, adapters::StoreAccess::read_write);
  if (!store) {
    return tl::unexpected(store.error());
  }
  m_store = std::move(*store);
  return {};
}

bool RunHost::wire_appservice(const adapters::ClientOptions& client) {
  const std::string address =
      m_options.appservice_listen.empty() ? m_settings.appservice_listen : m_options.appservice_listen;
  if (address.empty()) {
    m_log.info("no change feed: an appservice's bot may not /sync, and appserviceListen is not set; drift is "
               "repaired at each resync");
    return true;
  }
  auto parsed = telemetry::parse_listen_address(address);
  if (!parsed) {
    m_log.error("appserviceListen: " + parsed.error().message);
    return false;
  }
  if (!m_settings.appservice_registration_file) {
    m_log.error("appserviceListen needs appserviceRegistration: the registration's hs_token is what the "
                "homeserver's calls carry");
    return false;
  }
  auto registration = adapters::load_appservice_registration(*m_settings.appservice_registration_file);
  if (!registration) {
    m_log.error(error_text(registration.error()));
    return false;
  }
  AppserviceEndpointOptions options;
  options.host = parsed->ip;
  options.port = parsed->port;
  options.registration = std::move(*registration);
  options.state_path = m_options.state_path;
  auto endpoint = AppserviceEndpoint::make(std::move(options), m_settings.settings, client, &m_own_writes, m_log);
  if (!endpoint) {
    m_log.error(error_text(endpoint.error()));
    return false;
  }
  m_appservice = std::move(*endpoint);
  // A repair's own write, pushed back in a transaction, is not drift.
  m_homeserver->record_own_writes(&m_own_writes);
  publish_room_ids();
  return true;
}

adapters::ChangeFeed* RunHost::feed() {
  if (m_appservice) {
    return &m_appservice->feed();
  }
  return m_feed.get();
}

model::Result<void> RunHost::start_serving() {
  if (!m_appservice) {
    return {};
  }
  if (auto started = m_appservice->start(); !started) {
    return started;
  }
  const std::string address =
      m_options.appservice_listen.empty() ? m_settings.appservice_listen : m_options.appservice_listen;
  auto parsed = telemetry::parse_listen_address(address);
  const std::string where =
      parsed ? telemetry::to_string(telemetry::ListenAddress{parsed->ip, static_cast<std::uint16_t>(m_appservice->port())})
             : address;
  m_log.info("serving the application-service API on http://" + where);
  return {};
}

void RunHost::stop_serving() {
  if (m_appservice) {
    m_appservice->stop();
  }
}

void RunHost::publish_room_ids() {
  if (!m_appservice) {
    return;
  }
  if (auto ids = m_store->room_ids(); ids) {
    m_appservice->snapshot().set_room_ids(std::move(*ids));
  }
}

LoopOptions RunHost::loop_options() const {
  const model::Settings& settings = m_settings.settings;
  LoopOptions options;
  options.resync_interval = std::chrono::minutes(settings.resync_interval_minutes);
  // Manifests are watched; only a database is polled.
  options.source_interval = m_options.from_db.empty() ? std::chrono::milliseconds(0)
                                                      : std::chrono::seconds(settings.source_interval_seconds);
  options.shutdown_grace = std::chrono::seconds(settings.shutdown_grace_seconds);
  options.feed.wait = k_feed_wait;
  return options;
}

std::pair<std::string, std::string> RunHost::notify_source() const {
  const std::string& channel = m_settings.app_database.notify_channel;
  const std::string& uri = m_options.from_db;
  // As open_app_database tells them apart.
  const bool postgres = uri.rfind("sqlite:", 0) != 0 && (uri.rfind("postgres://", 0) == 0 ||
                                                         uri.rfind("postgresql://", 0) == 0 ||
                                                         uri.find('=') != std::string::npos);
  if (channel.empty() || !postgres) {
    return {};
  }
  return {uri, channel};
}

model::Result<model::MatrixState> RunHost::load_desired() {
  adapters::LoadedDesired loaded = adapters::load_desired(m_options.paths, m_options.from_db,
                                                          m_settings.app_database, m_settings.settings);
  if (!loaded.diagnostics.empty()) {
    return model::fail(model::Error::Kind::invalid, diagnostics_text(loaded.diagnostics));
  }
  model::MatrixState compiled = model::compile(loaded.topology, m_settings.settings);
  if (m_appservice) {
    // What the homeserver's queries are answered from, until the next load.
    m_appservice->snapshot().set_desired(compiled);
  }
  return compiled;
}

std::string RunHost::source_fingerprint() {
  if (m_options.from_db.empty()) {
    return {};
  }
  if (!m_database_changes) {
    m_database_changes = std::make_unique<adapters::AppDatabaseChanges>(m_options.from_db);
  }
  return m_database_changes->fingerprint();
}

model::Result<void> RunHost::reload_settings() {
  adapters::LoadedSettings fresh = adapters::load_settings(m_options.config_path, adapters::process_environment());
  if (!fresh.diagnostics.empty()) {
    return model::fail(model::Error::Kind::invalid, diagnostics_text(fresh.diagnostics));
  }
  const model::Settings& was = m_settings.settings;
  const model::Settings& now = fresh.settings;
  // The connection was made with the old ones; a new one needs a restart.
  if (now.homeserver_url != was.homeserver_url || now.bot_user_id != was.bot_user_id ||
      now.server_name != was.server_name || now.provisioning != was.provisioning ||
      fresh.access_token_file != m_settings.access_token_file ||
      fresh.appservice_listen != m_settings.appservice_listen) {
    m_log.warning("the config changes the homeserver connection (or appserviceListen); that takes a restart, the rest "
                  "applies now");
    fresh.settings.homeserver_url = was.homeserver_url;
    fresh.settings.bot_user_id = was.bot_user_id;
    fresh.settings.server_name = was.server_name;
    fresh.settings.provisioning = was.provisioning;
    fresh.access_token_file = m_settings.access_token_file;
    fresh.appservice_listen = m_settings.appservice_listen;
  }
  m_settings = std::move(fresh);
  m_probed = false;  // and what the homeserver offers, before the next pass
  m_log.info("reloaded the config");
  return {};
}

PassOutcome RunHost::run_pass(model::MatrixState desired, const PassRequest& request) {
  PassOutcome out;
  out.mode = Mode::reconcile;
  // What the homeserver offers is read again at each resync too: a server
  // upgraded under a running controller may now offer more (or less).
  if (!m_probed || request.reason == PassReason::resync) {
    if (auto caps = m_homeserver->probe(); !caps) {
      out.error = caps.error();
      return out;
    }
    m_probed = true;
  }
  const model::Settings& settings = m_settings.settings;
  const auto deadline = SteadyClock::now() + std::chrono::minutes(settings.pass_timeout_minutes);
  m_homeserver->set_pass_deadline(deadline);
  // Woken by room events only: accounts need not be listed again when
  // nothing suggests one changed. Every other pass reads them.
  m_homeserver->set_targeted_observation(request.reason == PassReason::homeserver_changed);
  ReconcileOptions options = reconcile_options(settings, Mode::reconcile);
  options.command = "run";
  options.max_in_flight = m_options.max_in_flight;
  options.deadline = deadline;
  options.stopping = request.stopping;
  options.full_observation = request.full_observation;
  options.hold_back_destructive = true;
  Reconciler reconciler(*m_homeserver, *m_store, m_clock, options, m_lock.get());
  auto planned = reconciler.plan(std::move(desired));
  if (!planned) {
    out.error = planned.error();
    return out;
  }
  out.planned = std::move(*planned);
  const model::Plan& plan = out.planned->planned.plan;
  auto progress = [&](const OperationReport& report) {
    const model::Operation& operation = plan.operations[report.index];
    LogFields fields{object_key(operation), model::to_string(operation.kind), report.room_id, std::nullopt};
    switch (report.status) {
      case OperationReport::Status::succeeded: m_log.info(report.description, fields); break;
      case OperationReport::Status::already_done: m_log.info(report.description + ": already done", fields); break;
      case OperationReport::Status::failed: m_log.error(report.description + ": " + report.error, fields); break;
      case OperationReport::Status::skipped: m_log.warning(report.description + ": " + report.error, fields); break;
      case OperationReport::Status::would_run: break;
    }
  };
  out.applied = reconciler.apply(*out.planned, progress);
  publish_room_ids();
  return out;
}

std::string RunHost::sync_position() {
  auto token = m_store->sync_token();
  return token ? *token : std::string();
}

void RunHost::cancel_requests() { m_homeserver->cancel(); }

void RunHost::pass_started(const PassRequest& request) {
  std::string message = std::string("pass started: ") + to_string(request.reason);
  if (!request.rooms.empty()) {
    message += " (" + std::to_string(request.rooms.size()) + (request.rooms.size() == 1 ? " room)" : " rooms)");
  }
  m_log.info(message, {{}, "pass", {}, std::nullopt});
}

void RunHost::pass_finished(const PassRequest& request, const PassOutcome& outcome, std::chrono::milliseconds took) {
  LogFields fields{{}, "pass", {}, took};
  const std::string reason = to_string(request.reason);
  if (outcome.error) {
    m_log.error("pass failed (" + reason + "): " + error_text(*outcome.error), fields);
  } else if (outcome.planned) {
    const GuardVerdict& guard = outcome.planned->guard;
    const model::Plan& plan = outcome.planned->planned.plan;
    if (guard.mass_change && guard.held_back > 0) {
      m_log.warning("mass-change guard: " + *guard.mass_change + "; held back " + std::to_string(guard.held_back) +
                        " changes, repairing the rest (run `mxctl apply --allow-mass-change` to let them through)",
                    fields);
    }
    if (guard.plan_errors > 0) {
      m_log.error(std::to_string(guard.plan_errors) + " changes cannot be made as desired (see `mxctl plan`)", fields);
    }
    if (outcome.applied && outcome.applied->lock_lost) {
      m_log.error("this process lost the pass lock while this pass ran (taken over, or its database session "
                  "ended): it stopped writing",
                  fields);
    }
    if (outcome.applied && outcome.applied->error) {
      m_log.error("pass not carried out: " + error_text(*outcome.applied->error), fields);
    }
    if (plan.empty()) {
      m_log.info("pass done (" + reason + "): no changes", fields);
    } else if (outcome.applied && outcome.applied->report) {
      const ApplyReport& report = *outcome.applied->report;
      m_log.info("pass done (" + reason + "): " + std::to_string(report.succeeded) + " operations succeeded, " +
                     std::to_string(report.failed) + " failed, " + std::to_string(report.skipped) + " skipped",
                 fields);
    }
  }
  if (m_telemetry) {
    auto archived = m_store->archive_records();
    m_telemetry->pass_finished(request, outcome, took, archived ? archived->size() : 0);
    m_telemetry->count_requests("homeserver", m_homeserver->stats());
  }
}

void RunHost::desired_loaded(bool changed) {
  if (changed) {
    m_log.info("the desired state changed");
  }
}

void RunHost::desired_rejected(const model::Error& error) {
  m_log.error("the desired state does not load; keeping the last good one: " + error.message);
  if (m_telemetry) {
    m_telemetry->desired_rejected();
  }
}

void RunHost::reload_failed(const model::Error& error) {
  m_log.error("the config does not load; keeping the one in use: " + error.message);
}

void RunHost::feed_failed(const model::Error& error) {
  if (!m_feed_failing.exchange(true)) {
    m_log.warning("waiting for changes failed (trying again, backing off): " + error_text(error));
  }
  if (m_telemetry) {
    m_telemetry->feed_failed();
    if (m_feed) {
      m_telemetry->count_requests("feed", m_feed->stats());
    }
  }
}

void RunHost::feed_answered() {
  if (m_feed_failing.exchange(false)) {
    m_log.info("the homeserver answers again");
  }
  if (m_telemetry) {
    m_telemetry->feed_answered();
    if (m_feed) {
      m_telemetry->count_requests("feed", m_feed->stats());
    }
  }
}

void RunHost::stopping() { m_log.info("stopping: no new work; the operations in flight finish"); }

void RunHost::grace_expired() { m_log.warning("stopping: the grace period is over; cutting the requests off"); }

}  // namespace controller
