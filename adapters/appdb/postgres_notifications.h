#pragma once
// PostgreSQL's LISTEN for a long-running controller: the application runs
// NOTIFY <channel> when its data changes, and mxctl reads its desired state
// again at once instead of at the next poll. A connection of its own, on a
// thread of its own; a lost connection is made again (backing off), and a
// reconnection counts as a notification, since one may have been missed.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "adapters/app_database_settings.h"
#include "model/result.h"

namespace adapters {

/// Listens on one channel until destroyed.
class PostgresNotifications {
 public:
  /// Connects to `conninfo` (a URI or key=value string), LISTENs on
  /// `channel` and calls `on_notify` from its thread for each notification
  /// (and after each reconnection). Fails, naming the database (password
  /// redacted), when the first connection or the LISTEN fails.
  static model::Result<std::unique_ptr<PostgresNotifications>> start(const std::string& conninfo,
                                                                    const std::string& channel,
                                                                    std::function<void()> on_notify);
  /// Stops the thread and closes the connection.
  ~PostgresNotifications();
  PostgresNotifications(const PostgresNotifications&) = delete;
  PostgresNotifications& operator=(const PostgresNotifications&) = delete;

 private:
  PostgresNotifications(std::string conninfo, std::string channel, std::function<void()> on_notify, int wake);
  void run(void* first_connection);

  std::string m_conninfo;
  std::string m_channel;
  std::function<void()> m_on_notify;
  int m_wake;  ///< an eventfd, written to stop the thread
  std::thread m_thread;
};

}  // namespace adapters
