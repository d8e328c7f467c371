#pragma once
// The two HTTP sides of the loop benchmark: the homeserver's client API as
// the bot (to make drift and watch it be repaired) and `mxctl run`'s own
// status server (readiness and the counters it exports on /metrics).

#include <memory>
#include <string>

namespace httplib {
class Client;
}

namespace bench {

/// A homeserver's client API, as the bot, over one kept-alive connection.
class BotClient {
 public:
  /// `url`: "http://127.0.0.1:PORT"; `token`: the bot's access token.
  BotClient(const std::string& url, const std::string& token);
  ~BotClient();

  /// The room id `alias` points to; throws std::runtime_error when it does
  /// not resolve.
  std::string resolve(const std::string& alias);
  /// The room's m.room.name; empty when it has none or the read fails.
  std::string room_name(const std::string& room_id);
  /// Sets the room's m.room.name; throws std::runtime_error unless the
  /// server answers 200.
  void set_room_name(const std::string& room_id, const std::string& name);

 private:
  std::unique_ptr<httplib::Client> m_client;
  std::string m_token;
};

/// Counters `mxctl run` exports, summed over their labels.
struct LoopCounters {
  double requests = 0;  ///< mxctl_homeserver_requests_total
  double passes = 0;    ///< mxctl_passes_total
};

/// `mxctl run`'s /metrics and /readyz.
class StatusClient {
 public:
  /// `url`: "http://127.0.0.1:PORT" as mxctl run logged it.
  explicit StatusClient(const std::string& url);
  ~StatusClient();

  /// GET /readyz answered 200.
  bool ready();
  /// The counters now; throws std::runtime_error when /metrics does not answer.
  LoopCounters counters();

 private:
  std::unique_ptr<httplib::Client> m_client;
};

}  // namespace bench
