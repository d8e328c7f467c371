#include "controller/loop/appservice_endpoint.h"

#include <chrono>

#include "adapters/redact.h"

namespace controller {

namespace {

// The client-server ping (spec v1.7): the homeserver calls our /ping.
const std::string k_ping_path = "/_matrix/client/v1/appservice/";

// The query port's client: no pass deadline (it serves between and during
// passes), the settings' per-request bounds.
adapters::ClientOptions query_client(adapters::ClientOptions options) {
  options.deadline.reset();
  return options;
}

}  // namespace

AppserviceEndpoint::AppserviceEndpoint(AppserviceEndpointOptions options, const model::Settings& settings,
                                       adapters::ClientOptions client, adapters::OwnWrites* own, LoopLog& log)
    : m_options(std::move(options)),
      m_settings(settings),
      m_client_options(query_client(std::move(client))),
      m_log(log),
      m_feed(own),
      m_port(settings, m_options.registration.as_token, m_client_options),
      m_queries(m_port, m_snapshot, [this](const std::string& line) { m_log.info(line); }) {
  // What the queries write comes back in transactions too: not drift.
  m_port.record_own_writes(own);
  m_feed.set_room_filter([this](const std::string& room_id) { return m_snapshot.is_managed_room(room_id); });
}

model::Result<std::unique_ptr<AppserviceEndpoint>> AppserviceEndpoint::make(AppserviceEndpointOptions options,
                                                                           const model::Settings& settings,
                                                                           adapters::ClientOptions client,
                                                                           adapters::OwnWrites* own, LoopLog& log) {
  if (options.registration.hs_token.empty()) {
    return model::fail(model::Error::Kind::invalid,
                       "appserviceListen: the registration has no hs_token, so the homeserver's calls cannot be "
                       "told from anyone else's");
  }
  auto transactions = adapters::open_transaction_log(options.state_path);
  if (!transactions) {
    return tl::unexpected(transactions.error());
  }
  std::unique_ptr<AppserviceEndpoint> endpoint(
      new AppserviceEndpoint(std::move(options), settings, std::move(client), own, log));
  endpoint->m_transactions = std::move(*transactions);
  return endpoint;
}

AppserviceEndpoint::~AppserviceEndpoint() { stop(); }

model::Result<void> AppserviceEndpoint::start() {
  adapters::AppserviceListenerOptions listen;
  listen.host = m_options.host;
  listen.port = m_options.port;
  listen.hs_token = m_options.registration.hs_token;
  adapters::AppserviceHandlers handlers;
  handlers.transaction = [this](const std::string& txn_id, const nlohmann::json& events) {
    return transaction(txn_id, events);
  };
  handlers.user = [this](const std::string& user_id) { return m_queries.user(user_id); };
  handlers.room_alias = [this](const std::string& alias) { return m_queries.room_alias(alias); };
  m_listener = std::make_unique<adapters::AppserviceListener>(std::move(listen), std::move(handlers));
  if (auto started = m_listener->start(); !started) {
    m_listener.reset();
    return started;
  }
  m_ping_client = std::make_unique<adapters::MatrixClient>(m_settings.homeserver_url,
                                                           m_options.registration.as_token, m_client_options);
  m_ping = std::thread([this] { ping(); });
  return {};
}

void AppserviceEndpoint::stop() {
  // Requests the queries have in flight end first, so no thread waits on them.
  m_port.cancel();
  if (m_ping_client) {
    m_ping_client->cancel();
  }
  if (m_ping.joinable()) {
    m_ping.join();
  }
  if (m_listener) {
    m_listener->stop();
  }
  m_feed.cancel();
}

model::Result<void> AppserviceEndpoint::transaction(const std::string& txn_id, const nlohmann::json& events) {
  auto fresh = m_transactions->record_transaction(txn_id);
  if (!fresh) {
    m_log.error("appservice transaction " + txn_id + " not recorded: " + adapters::redact(fresh.error().message, {}));
    return tl::unexpected(fresh.error());
  }
  if (!*fresh) {
    m_log.info("appservice transaction " + txn_id + " was done already; ignoring the repeat");
    return {};
  }
  m_feed.push(events);
  return {};
}

void AppserviceEndpoint::ping() {
  const std::string path = k_ping_path + adapters::encode_path_segment(m_options.registration.id) + "/ping";
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const nlohmann::json body = {
      {"transaction_id", "mxctl-" + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now).count())}};
  auto answer = m_ping_client->post(path, body);
  if (answer) {
    std::string took;
    if (auto ms = answer->find("duration_ms"); answer->is_object() && ms != answer->end() && ms->is_number()) {
      took = " in " + std::to_string(ms->get<std::int64_t>()) + " ms";
    }
    m_log.info("the homeserver reaches the appservice listener (ping answered" + took + ")");
    return;
  }
  const adapters::MatrixFailure& failure = answer.error();
  const std::string& errcode = failure.error.errcode;
  // A homeserver from before spec v1.7 has no ping: Synapse 1.67 answers
  // an unknown endpoint 400 M_UNRECOGNIZED, the spec says 404 (or 405).
  const bool unknown_endpoint = errcode == "M_UNRECOGNIZED" && failure.status >= 400 && failure.status < 500;
  if (unknown_endpoint || ((failure.status == 404 || failure.status == 405) && errcode.empty())) {
    m_log.info("the homeserver does not offer the appservice ping (Matrix 1.7); whether it reaches the listener "
               "shows when it first calls");
    return;
  }
  if (errcode == "M_BAD_STATUS" || errcode == "M_CONNECTION_FAILED" || errcode == "M_CONNECTION_TIMEOUT" ||
      errcode == "M_URL_NOT_SET") {
    m_log.warning("the homeserver cannot reach the appservice listener (check the registration's url): " +
                  adapters::redact(failure.error.message, {}));
    return;
  }
  m_log.warning("cannot ask the homeserver to ping the appservice listener: " +
                adapters::redact(failure.error.message, {}));
}

}  // namespace controller
