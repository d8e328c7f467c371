#pragma once
// The homeserver's calls to application services: user and room-alias
// queries (blocking, made without holding the state lock) and event pushes
// as transactions from a background thread, retried until the service
// accepts them. As Synapse 1.67 makes them: the legacy routes
// (`PUT {url}/transactions/{txnId}`, `GET {url}/users/{userId}`,
// `GET {url}/rooms/{roomAlias}`) with `?access_token=hs_token`.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "mxsim/appservice.h"

namespace mxsim {

/// Outgoing HTTP to registered application services.
class AppServiceClient {
 public:
  AppServiceClient() = default;
  ~AppServiceClient();
  AppServiceClient(const AppServiceClient&) = delete;
  AppServiceClient& operator=(const AppServiceClient&) = delete;

  /// Where transaction ids come from: Synapse takes them from one sequence
  /// for every service, kept in its database, so an id is never given to
  /// two transactions, even across restarts. Called without any of this
  /// client's locks held. Unset: a counter of this client's own.
  void set_txn_allocator(std::function<uint64_t()> allocate);
  /// Queues `event` (client format) for `service`; pushed in order, batched.
  /// A transaction's events are fixed when its id is given: a retry sends
  /// the same id with the same events, and later ones wait for the next.
  void enqueue(const AppService& service, nlohmann::json event);
  /// `GET {url}/users/{userId}`: true when the service answered 200
  /// (it has created the user through the client API meanwhile).
  bool query_user(const AppService& service, const std::string& user_id);
  /// `GET {url}/rooms/{roomAlias}`: true when the service answered 200.
  bool query_alias(const AppService& service, const std::string& alias);
  /// Waits until every queue is empty or `timeout_ms` passes; true when empty.
  bool flush(int64_t timeout_ms);
  /// Transactions the services accepted so far.
  uint64_t transactions_sent() const;
  /// Stops the pusher thread (queued events are dropped).
  void stop();

 private:
  struct Queue {
    std::string url;
    std::string hs_token;
    std::vector<nlohmann::json> events;     ///< waiting for a transaction
    std::vector<nlohmann::json> in_flight;  ///< the transaction being sent (until accepted)
    uint64_t txn = 0;                       ///< its id; 0 until given
    int failures = 0;
  };
  void run();
  bool send_transaction(const Queue& queue);

  mutable std::mutex m_mutex;
  std::condition_variable m_wake;
  std::condition_variable m_idle;
  std::map<std::string, Queue> m_queues;  ///< appservice id -> pending events
  std::thread m_thread;
  bool m_stopping = false;
  bool m_busy = false;
  uint64_t m_sent = 0;
  std::function<uint64_t()> m_allocate;
  uint64_t m_last_txn = 0;  ///< without an allocator
};

}  // namespace mxsim
