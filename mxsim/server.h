#pragma once
// Puts a Homeserver on HTTP: a cpp-httplib server on a background thread,
// converting each request to an ApiRequest and each ApiResponse back.

#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace mxsim {

class Homeserver;

/// Where and as whom to serve.
struct ServerOptions {
  std::string server_name = "mxsim.test";
  std::string host = "127.0.0.1";
  int port = 0;  // 0 = any free port
};

/// An HTTP front for one Homeserver.
class Server {
 public:
  /// A stopped server with a fresh Homeserver named `options.server_name`.
  explicit Server(ServerOptions options);
  /// Stops if running.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds and serves on a background thread; returns once it accepts connections.
  /// Throws std::runtime_error when the address cannot be bound.
  void start();
  /// Stops serving and joins the thread (no-op when not running).
  void stop();
  /// The bound port (the chosen one when options.port was 0); 0 before start().
  int port() const;
  /// "http://127.0.0.1:PORT"
  std::string base_url() const;
  /// The simulated homeserver behind this server.
  Homeserver& homeserver();

 private:
  ServerOptions m_options;
  std::unique_ptr<Homeserver> m_homeserver;
  std::unique_ptr<httplib::Server> m_http;
  std::thread m_thread;
  int m_port = 0;
};

}  // namespace mxsim
