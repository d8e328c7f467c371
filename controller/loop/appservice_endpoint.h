#pragma once
// `mxctl run`'s application-service side (appservice provisioning): the
// listener the homeserver calls (adapters/homeserver/appservice_listener.h)
// and what its requests feed. Transactions are recorded in the state store
// (a repeat is done once, across restarts too) and their events wake a
// targeted pass through a TransactionFeed, the loop's change feed in this
// mode; user and alias queries make what the last desired state wants
// through a port of their own. Once serving, it asks the homeserver to
// ping it, so a wrong registration url shows in the log at start.

#include <memory>
#include <string>
#include <thread>

#include "adapters/appservice_transactions.h"
#include "adapters/homeserver/appservice_listener.h"
#include "adapters/homeserver/appservice_queries.h"
#include "adapters/homeserver/desired_snapshot.h"
#include "adapters/homeserver/http_homeserver.h"
#include "adapters/homeserver/transaction_feed.h"
#include "adapters/manifests/appservice_registration.h"
#include "controller/loop/loop_log.h"

namespace controller {

/// What the endpoint needs to serve.
struct AppserviceEndpointOptions {
  /// Where to listen.
  std::string host;
  int port = 0;
  /// The registration (id, as_token, hs_token).
  adapters::AppserviceRegistration registration;
  /// The state store's path (the transaction ids' record opens it too).
  std::string state_path;
};

/// The listener and what it feeds; serves from start() to stop().
class AppserviceEndpoint {
 public:
  /// `settings` and `client` as the pass's port has them; `own` is the
  /// record of the pass's writes (taken out of the feed) and must outlive
  /// this. Fails when the transaction record cannot be opened.
  static model::Result<std::unique_ptr<AppserviceEndpoint>> make(AppserviceEndpointOptions options,
                                                                 const model::Settings& settings,
                                                                 adapters::ClientOptions client,
                                                                 adapters::OwnWrites* own, LoopLog& log);
  /// Stops serving.
  ~AppserviceEndpoint();

  /// Binds and serves, then asks the homeserver for a ping (in the
  /// background; the answer is logged). `invalid` when it cannot bind.
  model::Result<void> start();
  /// Stops serving: requests in flight are cut off, threads joined.
  void stop();
  /// The port bound.
  int port() const { return m_listener ? m_listener->port() : 0; }

  /// The loop's change feed in this mode.
  adapters::TransactionFeed& feed() { return m_feed; }
  /// Where the loop publishes its desired state and room ids.
  adapters::DesiredSnapshot& snapshot() { return m_snapshot; }

 private:
  AppserviceEndpoint(AppserviceEndpointOptions options, const model::Settings& settings,
                     adapters::ClientOptions client, adapters::OwnWrites* own, LoopLog& log);
  model::Result<void> transaction(const std::string& txn_id, const nlohmann::json& events);
  void ping();

  AppserviceEndpointOptions m_options;
  model::Settings m_settings;
  adapters::ClientOptions m_client_options;
  LoopLog& m_log;
  adapters::DesiredSnapshot m_snapshot;
  adapters::TransactionFeed m_feed;
  std::unique_ptr<adapters::AppserviceTransactions> m_transactions;
  /// The queries' own port: the pass's is used by the loop's thread only.
  adapters::HttpHomeserver m_port;
  adapters::AppserviceQueries m_queries;
  std::unique_ptr<adapters::AppserviceListener> m_listener;
  std::unique_ptr<adapters::MatrixClient> m_ping_client;
  std::thread m_ping;
};

}  // namespace controller
