#pragma once
// The application-service API of Matrix spec v1.16, served to the
// homeserver: transactions (events pushed), user and room-alias queries,
// and ping. Each request is authenticated with the registration's
// hs_token (the `Authorization: Bearer` header, or the legacy
// `access_token` query parameter Synapse before 1.81 sends; both must match
// when both come). The legacy unprefixed routes (`/transactions/{txnId}`,
// `/users/{userId}`, `/rooms/{roomAlias}`) are served as well: the spec
// still has homeservers fall back to them, and Synapse 1.67 calls nothing
// else. What a request means is left to AppserviceHandlers; the listener
// only checks, bounds and answers.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "model/result.h"

namespace httplib {
class Server;
}

namespace adapters {

/// What a query handler found.
enum class QueryAnswer {
  exists,  ///< it exists now (made while the homeserver waited): 200 {}
  absent,  ///< not one of ours: 404 M_NOT_FOUND
  failed,  ///< it should exist but could not be made: 500, the homeserver asks again later
};

/// What the requests mean. Called from the listener's threads, several at
/// once: each must be thread-safe and must not wait on a pass.
struct AppserviceHandlers {
  /// A transaction whose body has the spec's shape; `events` is its array.
  /// An error is answered 500, so the homeserver sends it again.
  std::function<model::Result<void>(const std::string& txn_id, const nlohmann::json& events)> transaction;
  /// GET users/{userId}.
  std::function<QueryAnswer(const std::string& user_id)> user;
  /// GET rooms/{roomAlias}.
  std::function<QueryAnswer(const std::string& alias)> room_alias;
};

/// Where and how hard the listener serves.
struct AppserviceListenerOptions {
  std::string host = "127.0.0.1";
  /// 0: any free port (tests).
  int port = 0;
  /// The registration's hs_token; every request must carry it.
  std::string hs_token;
  /// Longest request body (a transaction is a batch of events): longer is 413.
  std::size_t max_body_bytes = 16u << 20;
  /// Silence while reading a request or writing an answer ends the connection.
  std::chrono::seconds read_timeout{10};
  std::chrono::seconds write_timeout{10};
  /// Requests served at once; more wait for a thread.
  int threads = 4;
};

/// The listener: serves from start() until stop() (or destruction).
class AppserviceListener {
 public:
  AppserviceListener(AppserviceListenerOptions options, AppserviceHandlers handlers);
  ~AppserviceListener();
  AppserviceListener(const AppserviceListener&) = delete;
  AppserviceListener& operator=(const AppserviceListener&) = delete;

  /// Binds and starts serving; `invalid` naming the address when it cannot
  /// be bound. Returns once the listener answers.
  model::Result<void> start();
  /// Stops serving: requests in flight finish, then the threads are joined.
  void stop();
  /// The port bound (the one asked for, or the one picked for 0).
  int port() const { return m_port; }

 private:
  AppserviceListenerOptions m_options;
  AppserviceHandlers m_handlers;
  std::unique_ptr<httplib::Server> m_server;
  std::thread m_thread;
  int m_port = 0;
};

}  // namespace adapters
